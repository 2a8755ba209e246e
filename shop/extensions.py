"""Flask extensions, created unbound and initialised in `create_app`."""

import functools
import sqlite3

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import CursorResult, Engine, Executable, MetaData, event
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every table of the shop and the emulator."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
#: Messages, numbers, amounts and dates in the request's language (`shop.languages`).
babel = Babel()
# No default limits: each limit is declared where it applies (see shop/security.py).
limiter = Limiter(key_func=get_remote_address)


def read(statement: Executable, params: dict | None = None) -> CursorResult:
    """Run a Core read on the session's connection, in its transaction.

    For the reads every page makes (the signed-in user, the catalogue), with statements
    built once: this skips the ORM's execution layer, which costs about as much as the
    query itself on a small read. Pending ORM changes are flushed first, as the session
    would, so the read sees them.
    """
    session = db.session
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection().execute(statement, params)


#: The execution option marking a connection a read-only view runs on (see `reads_only`).
READS_ONLY = "shop_reads_only"


class WriteInReadOnlyView(RuntimeError):
    """A view marked `reads_only` tried to change the database."""


def reads_only(view):
    """Run a view that only reads outside a transaction, on PostgreSQL.

    A transaction costs two round trips of its own there (BEGIN, then ROLLBACK when the
    connection goes back to the pool), as many as the page's reads on the main routes.
    Without one, each read sees the latest committed data, as the first read of a
    transaction would. Put it above `login_required`, which loads the user. A write on
    that connection raises `WriteInReadOnlyView` before it reaches the database, so a view
    that starts writing cannot do so without a transaction unnoticed. SQLite, whose
    transactions cost no round trip, is left as it is.
    """

    @functools.wraps(view)
    def without_transaction(*args, **kwargs):
        read_without_transaction()
        return view(*args, **kwargs)

    return without_transaction


def read_without_transaction() -> None:
    """From here on, this request's session reads outside a transaction on PostgreSQL, and
    may only read (`reads_only`, for a view that is not one as a whole: `/healthz`, which
    must answer its own 503 when the connection cannot be had)."""
    session = db.session()  # the request's own Session (the scoped proxy lacks some calls)
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT", READS_ONLY: True})


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_writes_in_read_only_views(conn, cursor, statement, parameters, context, many):
    """The guard of `reads_only`: only SELECTs on its connections."""
    if conn.get_execution_options().get(READS_ONLY) and statement.lstrip()[:6].upper() != "SELECT":
        raise WriteInReadOnlyView(f"a read-only view ran: {statement[:80]}")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite (development, tests): write-ahead log so readers never block the writer, and
    sync at checkpoints rather than at every commit. PostgreSQL connections are untouched."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
