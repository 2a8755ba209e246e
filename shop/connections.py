"""Pooled PostgreSQL connections the server has dropped, found without a round trip.

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` each time a request takes a connection from
the pool: one more round trip on every request, as many as the page's own reads on the
main routes. Instead, when the pool hands out a connection, `_hung_up` looks at its
socket: an idle connection the server has said nothing to is alive, since PostgreSQL
tells a client it is leaving (a restart, `pg_terminate_backend`, an idle timeout, a
failover) with a FATAL error and then closes, and a closed or cut socket reads as ready
too. Either way the pool throws the connection away and opens another, before the request
sends anything. What this cannot see (a network that drops packets silently) a ping would
not have seen either: it would wait as long.

A server that is told to end a connection says so a moment later: a request can take the
connection in that moment. So a request whose very first statement finds its connection
dropped is run once more on a fresh one (`retry_first_statement`): nothing of it reached
the database, so nothing can happen twice. A connection lost after a statement succeeded
is not retried; that request gets the shop's 503.
"""

import select
from collections.abc import Callable
from typing import TypeVar

from flask import g, has_request_context
from sqlalchemy import Engine, event, exc
from sqlalchemy.pool import Pool

T = TypeVar("T")
#: Where a request counts the statements that reached the database (`_count_statement`).
_STATEMENTS = "_shop_statements_done"

try:
    import psycopg
    from psycopg.pq import ConnStatus, TransactionStatus
except ImportError:  # SQLite only: nothing to watch
    psycopg = None


def _hung_up(connection) -> bool:
    """Whether the server has closed this idle psycopg connection, or is about to: broken,
    closed, not idle, or anything waiting to be read (a connection between requests gets
    no message unless it is being told goodbye)."""
    if connection.closed or connection.broken:
        return True
    pgconn = connection.pgconn
    if pgconn.status != ConnStatus.OK or pgconn.transaction_status != TransactionStatus.IDLE:
        return True
    poll = select.poll()
    poll.register(pgconn.socket, select.POLLIN | select.POLLPRI)
    return bool(poll.poll(0))


@event.listens_for(Pool, "checkout")
def _drop_hung_up(dbapi_connection, connection_record, connection_proxy) -> None:
    """Refuse a connection the server hung up on; the pool replaces it (SQLAlchemy retries
    a checkout that raises `DisconnectionError` with a fresh connection)."""
    watched = psycopg is not None and isinstance(dbapi_connection, psycopg.Connection)
    if watched and _hung_up(dbapi_connection):
        raise exc.DisconnectionError("the server closed this pooled connection")


@event.listens_for(Engine, "after_cursor_execute")
def _count_statement(conn, cursor, statement, parameters, context, executemany) -> None:
    """Note that this request has had a statement answered (it may have written)."""
    if has_request_context():
        setattr(g, _STATEMENTS, getattr(g, _STATEMENTS, 0) + 1)


def retry_first_statement(step: Callable[[], T], forget: Callable[[], None]) -> T:
    """`step()`, run once more if its request's first statement found the connection
    dropped (`forget()` first: drop the session's connection and what was read of the
    user); any other failure, or a second one, is raised as it is."""
    try:
        return step()
    except exc.DBAPIError as error:
        if not error.connection_invalidated or getattr(g, _STATEMENTS, 0):
            raise
    forget()
    return step()
