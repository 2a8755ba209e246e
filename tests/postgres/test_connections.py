"""Pooled connections the server dropped are found without a round trip (shop/connections.py).

A real PostgreSQL ends the pool's connection (`pg_terminate_backend`, what a restart or a
failover does to every client); the next checkout gets a fresh one and the statement
succeeds, and a live connection is handed out with nothing sent before the request's
own statement.
"""

import time

import psycopg
import pytest
from sqlalchemy import create_engine, event, make_url, text

from bench.wire import RoundTripRelay
from conftest import postgres_server_url
from shop import connections

pytestmark = pytest.mark.postgres


@pytest.fixture
def server_url() -> str:
    url = postgres_server_url()
    if url is None:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
    return url


def terminate(pid: int, server_url: str) -> None:
    """End backend `pid` from another connection, and wait until it is gone."""
    admin = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        for _ in range(100):
            gone = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
            if gone.fetchone()[0] == 0:
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} still there")


def test_a_live_idle_connection_is_not_hung_up_and_a_terminated_one_is(server_url):
    plain = make_url(server_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(plain, autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert connections._hung_up(conn) is False
        terminate(pid, server_url)
        assert connections._hung_up(conn) is True


def test_the_pool_replaces_a_terminated_connection_and_pings_none(server_url):
    url = make_url(server_url)
    with RoundTripRelay(url.host, url.port or 5432) as relay:
        relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(False)
        engine = create_engine(relayed, pool_size=1, max_overflow=0)
        try:
            with engine.connect() as conn:
                first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            terminate(first, server_url)
            with engine.connect() as conn:  # the same pooled connection, now dead: replaced
                second = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            assert second != first
            before = relay.count
            with engine.connect() as conn:  # alive: handed out as it is
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == second
            # BEGIN, the statement, ROLLBACK on the way back: no ping before them.
            assert relay.count - before == 3
        finally:
            engine.dispose()


def terminate_database(database: str, server_url: str) -> None:
    """End every session on `database`, and wait until they are gone."""
    admin = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        others = "datname = %s AND pid <> pg_backend_pid()"
        conn.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {others}",
                     (database,))  # fmt: skip
        for _ in range(100):
            left = conn.execute(
                f"SELECT count(*) FROM pg_stat_activity WHERE {others}", (database,)
            )
            if left.fetchone()[0] == 0:
                return
            time.sleep(0.01)
    raise AssertionError("sessions still there")


def test_a_request_whose_first_statement_finds_its_connection_gone_runs_again(
    app, client, user, server_url, monkeypatch
):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the run's database is SQLite")
    assert client.get("/").status_code == 200  # the pool now holds the connection
    with app.app_context():
        from shop.extensions import db

        engine = db.engine
    dropped = []
    event.listen(engine, "handle_error", lambda context: dropped.append(context.is_disconnect))
    # The moment after the server was told to end it and before it said goodbye: the
    # socket still looks quiet, so the pool hands the dead connection out.
    monkeypatch.setattr(connections, "_hung_up", lambda connection: False)
    terminate_database(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database, server_url)
    page = client.get("/")
    assert page.status_code == 200, page.text[:300]
    assert 'action="/logout"' in page.text  # still signed in: the user was read on the retry
    assert dropped == [True]  # the first statement failed once, then all went through
