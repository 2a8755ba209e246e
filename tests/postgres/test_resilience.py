"""The shop under gunicorn when PostgreSQL drops its connections, goes away or hangs.

`shop/connections.py` replaces pooled connections the server dropped before a request
gets one (reading the socket, no ping); DB_CONNECT_TIMEOUT (shop/config.py
`engine_options()`) bounds how long a request waits for a database that does not answer.
"""

import re
import time
from collections import Counter

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from conftest import postgres_server_url

from .db_link import DatabaseLink
from .shop_server import WORKERS, start_server, stop_server, together

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def link(database):
    """The relay this module's shop reaches PostgreSQL through; up unless a test cuts it."""
    url = make_url(database[0])
    relay = DatabaseLink(url.host, url.port)
    relay.up()
    yield relay
    relay.down()


@pytest.fixture(scope="module")
def server(database, link, tmp_path_factory):
    """The shop under gunicorn (4 workers) reaching its database through the link."""
    url = make_url(database[0]).set(port=link.port).render_as_string(hide_password=False)
    log = tmp_path_factory.mktemp("gunicorn") / "web.log"
    running = start_server(url, log, DB_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT))
    yield running
    stop_server(running)


UNAVAILABLE = "briefly unavailable"
CONNECT_TIMEOUT = 2  # seconds; libpq's smallest


def terminate_connections(database: str) -> int:
    """What an operator (or a failover) does: end every session on the shop's database."""
    admin = create_engine(make_url(postgres_server_url()), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            ).scalar()
    finally:
        admin.dispose()


def burst(customer, products, count: int = 16) -> Counter:
    """`count` simultaneous requests of every kind a customer makes; their statuses."""
    tabs = [customer.tab() for _ in range(count)]
    beans = products["BEAN-COL-250"]

    def request(index: int) -> str:
        """A page, the cart fragment, or an add to the cart, by turns."""
        tab = tabs[index]
        if index % 3 == 0:
            return f"GET / {tab.get('/').status_code}"
        if index % 3 == 1:
            return f"GET /cart {tab.get('/cart', htmx=True).status_code}"
        answer = tab.send("POST", "/cart/items", {"product_id": beans, "quantity": 1})
        return f"POST /cart/items {answer.status_code}"

    results, _ = together(count, request)
    return Counter(results)


def test_requests_succeed_after_postgres_terminates_every_connection(server, products):
    customer = server.add_customer()
    database = make_url(server.database_url).database
    before = burst(customer, products)  # every worker now holds pooled connections
    rounds = []
    for _ in range(3):
        killed = terminate_connections(database)
        after = burst(customer, products)
        rounds.append((killed, dict(after)))
        assert all(key.endswith(" 200") for key in after), after
    health = requests.get(server.url("/healthz"), timeout=10)
    print(f"\nbefore: {dict(before)}; (connections terminated, statuses after) x3: {rounds}")
    assert all(key.endswith(" 200") for key in before), before
    assert all(killed >= 1 for killed, _ in rounds)
    assert (health.status_code, health.text) == (200, "ok")
    assert server.booted_workers() == WORKERS  # no worker died on the way


def timed(call) -> tuple[requests.Response, float]:
    """The response and how long it took, in seconds."""
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_clear_503(response: requests.Response) -> None:
    """The shop's own 503 page: a calm sentence, the page frame, no stack trace."""
    assert response.status_code == 503, response.text[:300]
    assert UNAVAILABLE in response.text and 'id="cart-count"' in response.text
    assert "Traceback" not in response.text and "OperationalError" not in response.text


def test_a_database_that_goes_away_gets_503s_and_then_service_again(server, link, products):
    customer = server.add_customer()
    beans = {"product_id": products["BEAN-COL-250"], "quantity": 2}
    assert customer.send("POST", "/cart/items", beans).status_code == 200

    # It goes away: the port closes and every pooled connection is cut.
    link.down()
    health, health_s = timed(lambda: requests.get(server.url("/healthz"), timeout=30))
    assert (health.status_code, health.text) == (503, "database unavailable")
    visitor, visitor_s = timed(lambda: requests.get(server.url("/"), timeout=30))
    assert_clear_503(visitor)
    page, page_s = timed(lambda: customer.get("/"))
    assert_clear_503(page)
    toast = customer.send("POST", "/cart/items", beans)
    assert toast.status_code == 503 and toast.headers["HX-Retarget"] == "#toasts"
    assert UNAVAILABLE in toast.text
    print(
        f"\nclosed port: /healthz 503 in {health_s * 1000:.0f} ms, / 503 in "
        f"{visitor_s * 1000:.0f} ms (visitor) and {page_s * 1000:.0f} ms (signed in)"
    )

    # It hangs (accepts, never answers): requests give up after DB_CONNECT_TIMEOUT,
    # long before gunicorn's 30 s worker timeout would kill the worker.
    link.silent()
    hung, hung_s = timed(lambda: customer.get("/"))
    assert_clear_503(hung)
    hung_health, hung_health_s = timed(lambda: requests.get(server.url("/healthz"), timeout=30))
    assert hung_health.status_code == 503
    print(
        f"black hole: / 503 in {hung_s:.1f} s, /healthz 503 in {hung_health_s:.1f} s "
        f"(DB_CONNECT_TIMEOUT={CONNECT_TIMEOUT})"
    )
    assert hung_s < 3 * CONNECT_TIMEOUT + 2 and hung_health_s < CONNECT_TIMEOUT + 2

    # Back again: the same signed-in customer carries on, nothing lost, no restart.
    link.up()
    back = customer.get("/")
    assert back.status_code == 200 and UNAVAILABLE not in back.text
    assert re.search(r'<span id="cart-count"[^>]*>2</span>', back.text)
    assert requests.get(server.url("/healthz"), timeout=10).status_code == 200
    assert server.booted_workers() == WORKERS  # no worker crashed or timed out
    assert "Exception on" not in server.log.read_text()  # no failure escaped as a 500
