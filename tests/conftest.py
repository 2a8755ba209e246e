"""Shared fixtures: a migrated database per run (SQLite, or PostgreSQL with
TEST_DATABASE_URL), a fresh app per test, clients that keep CSRF on, and helpers."""

import os
import re
import socket
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import flask_migrate
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, make_url, text
from werkzeug.serving import make_server

from shop import create_app
from shop.auth import services as auth_services
from shop.config import database_url as normalise_url
from shop.config import engine_options
from shop.extensions import db

# Settings from the developer's shell must not leak into tests (a live Stripe key least of all).
for _name in (
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_EMULATOR",
    "DATABASE_URL",
    "MAIL_URL",
    "MAIL_FROM",
    "PUBLIC_URL",
    "METRICS_TOKEN",
    "SENTRY_DSN",
    "PROMETHEUS_MULTIPROC_DIR",
):
    os.environ.pop(_name, None)
#: The Redis of this run, if any (CI sets REDIS_URL). Kept out of the environment so test
#: apps count in memory unless a test asks for Redis (the app reads REDIS_URL by itself).
TEST_REDIS_URL = os.environ.pop("REDIS_URL", None)
for _name in ("RATELIMIT_STORAGE_URI", "PUBLIC_URL", "TRUSTED_HOSTS", "PWNED_PASSWORDS"):
    os.environ.pop(_name, None)

#: The public address of the production-mode apps the tests build.
PUBLIC_URL = "https://shop.example.com"
#: What production on the emulator needs besides SECRET_KEY (which app_config gives).
PRODUCTION_ENV = {
    "STRIPE_EMULATOR": "1",
    "PUBLIC_URL": PUBLIC_URL,
    "RATELIMIT_STORAGE_URI": "memory://",
    "FLASK_SKIP_DOTENV": "1",
}

# Every answer of the Stripe emulator, in every test, is checked against Stripe's schemas.
pytest_plugins = ["emulator_schema"]

FAST_HASH = "pbkdf2:sha256:1000"  # scrypt is deliberately slow; tests need not be
PASSWORD = "correct horse battery"
ADMIN_EMAIL = "boss@example.com"


def app_config(url: str, **extra) -> dict:
    """The overrides every test app gets, plus `extra`."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        # Tests run many "concurrent requests" as threads of one process, each holding a
        # connection; production workers serve one request at a time.
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url, {"DB_POOL_SIZE": "30"}),
        "PASSWORD_HASH_METHOD": FAST_HASH,
        # Orders cost what their items cost: the tests of shipping (test_shipping.py) offer
        # the rates; an address is still collected everywhere.
        "SHIPPING_RATES": (),
        **extra,
    }


def redis_url() -> str:
    """The Redis for tests: REDIS_URL (CI sets it, so there it must answer) or the local one."""
    if TEST_REDIS_URL:
        return TEST_REDIS_URL
    import redis

    local = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(local, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379 and REDIS_URL is not set")
    return local


def postgres_server_url() -> str | None:
    """TEST_DATABASE_URL normalised for psycopg 3, or None when the run is on SQLite."""
    base = os.environ.get("TEST_DATABASE_URL")
    return normalise_url(base, "") if base else None


@contextmanager
def scratch_database(prefix: str, sqlite_dir, backend: str | None = None):
    """A new, empty database of its own, dropped after the block: on PostgreSQL when
    TEST_DATABASE_URL is set (or `backend` says "postgresql"), else a SQLite file."""
    server = postgres_server_url()
    if backend == "postgresql" and server is None:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
    if backend == "sqlite" or server is None:
        yield "sqlite:///" + str(Path(sqlite_dir) / f"{prefix}.db")
        return
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # Commits need not wait for the disk: a throwaway database is never recovered after a
        # crash, and locking and visibility are exactly the same.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def migrating(prefix: str, sqlite_dir, backend: str):
    """An app on a scratch database of its own (empty, no migration run), inside its app
    context, for tests that move it between revisions; its connections are closed after the
    block (PostgreSQL cannot drop a database with open connections)."""
    with scratch_database(prefix, sqlite_dir, backend) as url:
        app = create_app(app_config(url))
        with app.app_context():
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()


def unreachable_database_url(tmp_path) -> str:
    """A database URL of the run's kind that cannot be reached: PostgreSQL on a port
    nobody listens on, or a SQLite file in a directory that does not exist."""
    if postgres_server_url() is None:
        return f"sqlite:///{tmp_path}/missing/dir/shop.db"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/shop"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database for this run: a new PostgreSQL database (dropped after) or a SQLite file."""
    with scratch_database("shop_test", tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def migrated(database_url):
    """Build the schema once per run with the committed migrations (as `flask db upgrade`)."""
    app = create_app(app_config(database_url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return database_url


def empty_and_dispose(app) -> None:
    """Empty every table of the run's database and close the app's connections."""
    with app.app_context():
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.engine.dispose()


@pytest.fixture
def app(migrated):
    """A fresh app on the run's database; every table is emptied after the test."""
    app = create_app(app_config(migrated))
    yield app
    empty_and_dispose(app)


@pytest.fixture
def app_with(migrated):
    """Apps on the run's database with settings of their own (`app_with(TAX_RATE=...)`);
    every table is emptied after the test."""
    made = []

    def build(**settings):
        made.append(create_app(app_config(migrated, **settings)))
        return made[-1]

    yield build
    for each in made:
        empty_and_dispose(each)


@pytest.fixture
def production_app(app, migrated, monkeypatch):
    """Build apps as production does (not TESTING), on the run's database, with
    PRODUCTION_ENV plus the given environment (None unsets a variable). Reach them at
    PUBLIC_URL: `app.test_client()` then `client.get(path, base_url=PUBLIC_URL)`."""
    built = []

    def build(**env):
        for name, value in {**PRODUCTION_ENV, **env}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        made = create_app(app_config(migrated, TESTING=False, STATIC_BUILD_DIR=None))
        built.append(made)
        return made

    yield build
    for made in built:
        with made.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client with CSRF protection left on."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """The `flask` command line of the test app."""
    return app.test_cli_runner()


@pytest.fixture
def seeded(app):
    """The catalogue loaded from the shipped seed file; returns the products by SKU."""
    from shop.catalog import services
    from shop.catalog.models import Product

    with app.app_context():
        services.seed_products(services.read_seed_file())
        return {p.sku: p.id for p in db.session.scalars(db.select(Product))}


def first_count(name: str) -> int:
    """The count of a rate limit's first part, e.g. 60 for "60 per minute;1000 per day"."""
    from shop.config import RATE_LIMITS

    return int(RATE_LIMITS[name].split(";")[0].split()[0])


def csrf_token_of(page: str) -> str:
    """The CSRF token a page's html hands out, read from its `<meta name="csrf-token">`."""
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, f"no csrf-token meta in {page[:300]!r}"
    return match.group(1)


def csrf_token(client, path: str = "/") -> str:
    """The CSRF token the page at `path` hands out to `client`."""
    return csrf_token_of(client.get(path).get_data(as_text=True))


def hx_headers(client, **extra) -> dict:
    """Headers htmx sends from our page: HX-Request and the CSRF header."""
    return {"HX-Request": "true", "X-CSRFToken": csrf_token(client), **extra}


class AuthActions:
    """Register, log in and log out through the real forms (CSRF included)."""

    def __init__(self, app, client):
        self._app = app
        self._client = client

    def create_user(self, email: str = "ada@example.com", password: str = PASSWORD):
        """A customer straight in the database, for tests about something else."""
        with self._app.app_context():
            return auth_services.register_user(email, password, FAST_HASH).id

    def create_admin(self, email: str = ADMIN_EMAIL, password: str = PASSWORD) -> int:
        """An admin straight in the database (as `flask create-admin` makes one)."""
        with self._app.app_context():
            return auth_services.set_admin(email, password, FAST_HASH)[0].id

    def register(self, email="ada@example.com", password=PASSWORD, confirm=None, **query):
        """Submit the registration form."""
        token = csrf_token(self._client, "/register")
        data = {"email": email, "password": password, "confirm": confirm or password}
        return self._client.post(
            "/register", data={**data, "csrf_token": token}, query_string=query
        )

    def login(self, email="ada@example.com", password=PASSWORD, remember=False, **query):
        """Submit the login form."""
        token = csrf_token(self._client, "/login")
        data = {"email": email, "password": password, "csrf_token": token}
        if remember:
            data["remember"] = "y"
        return self._client.post("/login", data=data, query_string=query)

    def logout(self):
        """Post the logout form."""
        return self._client.post("/logout", data={"csrf_token": csrf_token(self._client)})


@pytest.fixture
def auth(app, client):
    """Account actions through the real forms."""
    return AuthActions(app, client)


@pytest.fixture
def user(auth, client):
    """A customer who is logged in on `client`; returns the user id."""
    user_id = auth.create_user()
    response = auth.login()
    assert response.status_code == 302
    return user_id


@dataclass(frozen=True)
class SignedInAdmin:
    """An admin's id and a test client of their own, signed in through the login form."""

    id: int
    client: FlaskClient


@pytest.fixture
def admin(app, auth) -> SignedInAdmin:
    """An admin signed in on a client of their own (`client` stays the customer's)."""
    admin_id = auth.create_admin()
    client = app.test_client()
    assert AuthActions(app, client).login(ADMIN_EMAIL).status_code == 302
    return SignedInAdmin(admin_id, client)


@pytest.fixture
def shopper(user, client):
    """The logged-in customer's cart actions (through the real forms, CSRF on)."""
    from cart_helpers import Shopper

    return Shopper(client)


@contextmanager
def count_queries(app):
    """Collect the SQL statements run inside the block (a list of strings)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def all_at_once(app, count: int, action) -> list:
    """Run `action(n)` for n in range(count) in as many threads, released together, each in
    an app context of its own; their results (in the order they finished)."""
    results: list = []
    barrier = threading.Barrier(count)

    def attempt(n: int) -> None:
        with app.app_context():
            barrier.wait()
            results.append(action(n))
            db.session.remove()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@contextmanager
def serve(app):
    """`app` over HTTP on a free port of 127.0.0.1, from a thread; yields its base url."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def order(app, client, user, seeded):
    """A pending order for 2 Ethiopia + 1 mug, with its open Checkout Session."""
    from checkout_helpers import add, checkout, orders

    add(client, seeded["BEAN-ETH-250"], 2)
    add(client, seeded["MUG-STONE"], 1)
    checkout(client)
    [pending] = orders(app)
    return pending


@pytest.fixture
def mailbox():
    """A real SMTP server (aiosmtpd) on a free loopback port, up for the test."""
    from mail_helpers import Mailbox

    box = Mailbox()
    box.start()
    yield box
    box.stop()
