"""Flask extensions, created unbound and initialised in `create_app`."""

import sqlite3

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


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite (development, tests): write-ahead log so readers never block the writer, and
    sync at checkpoints rather than at every commit. PostgreSQL connections are untouched."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
