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

psycopg opens a transaction with a BEGIN and a Sync of its own ahead of the first statement:
one more round trip on every write. `_run_opening` sends the BEGIN and the transaction's
first statement together, in one pipeline: one round trip for both.
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


def _begin_statement(connection) -> str:
    """The BEGIN psycopg would send on `connection`, with its isolation and access modes."""
    parts = ["BEGIN"]
    if connection.isolation_level is not None:
        parts.append("ISOLATION LEVEL " + connection.isolation_level.name.replace("_", " "))
    if connection.read_only is not None:
        parts.append("READ ONLY" if connection.read_only else "READ WRITE")
    if connection.deferrable is not None:
        parts.append("DEFERRABLE" if connection.deferrable else "NOT DEFERRABLE")
    return " ".join(parts)


#: The engine execution option that lets `_run_opening` send BEGIN with a transaction's
#: first statement: the shop's own engine has it (`shop.config.engine_options`); an engine
#: without it (a test's or a script's, which may default to autocommit) is left alone.
BEGIN_WITH_FIRST_STATEMENT = "shop_begin_with_first_statement"


def _opens_transaction(cursor, context) -> bool:
    """Whether this statement is the first of a transaction on the shop's psycopg
    connection: idle there, and not on a connection SQLAlchemy set to autocommit (the
    read-only views' `AUTOCOMMIT`). On the shop's engine nothing else sets autocommit, so
    a connection idle in it is one `_run_opening` set so."""
    if context is None or psycopg is None:
        return False
    connection = cursor.connection
    if not isinstance(connection, psycopg.Connection):
        return False
    options = context.execution_options
    return (
        bool(options.get(BEGIN_WITH_FIRST_STATEMENT))
        and options.get("isolation_level") != "AUTOCOMMIT"
        and connection.pgconn.transaction_status == TransactionStatus.IDLE
    )


def _run_opening(cursor, context, execute: Callable[[], None]) -> bool | None:
    """Send BEGIN and a transaction's first statement (`execute`) in one pipeline, with a
    single Sync: one round trip where psycopg's own BEGIN (followed by a Sync of its own,
    even in a pipeline) took two. The connection is left in psycopg's autocommit, so that
    psycopg sends no BEGIN of its own; the server's transaction is ours, and commit() and
    rollback(), which go by the server's transaction status, end it as before. The rows or
    the error come back as they would outside a pipeline."""
    if not _opens_transaction(cursor, context):
        return None
    connection = cursor.connection
    begin = _begin_statement(connection)
    if not connection.autocommit:
        connection.autocommit = True  # allowed: the connection is idle
    with connection.pipeline():
        cursor.execute(begin)
        execute()
    return True


@event.listens_for(Engine, "do_execute")
def _begin_with_statement(cursor, statement, parameters, context) -> bool | None:
    """A transaction's first statement, with parameters (`_run_opening`); without any, or
    on a server-side cursor (streamed results, which a pipeline cannot carry), as
    `_begin_as_psycopg_does`."""
    if not parameters or (psycopg is not None and isinstance(cursor, psycopg.ServerCursor)):
        return _begin_as_psycopg_does(cursor, context)
    return _run_opening(cursor, context, lambda: cursor.execute(statement, parameters))


@event.listens_for(Engine, "do_execute_no_params")
@event.listens_for(Engine, "do_executemany")
def _begin_as_psycopg_does(cursor, *args) -> None:
    """A transaction opened by a statement without parameters (which may be several, as
    the simple protocol allows and a pipeline does not) or run for many rows: psycopg
    sends its own BEGIN, as it would without `_run_opening`, so the connection leaves the
    autocommit `_run_opening` may have left it in."""
    if _opens_transaction(cursor, args[-1]) and cursor.connection.autocommit:
        cursor.connection.autocommit = False  # allowed: the connection is idle


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
