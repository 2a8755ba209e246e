"""SQL statements per request, counted in-process on the bench database.

The shop runs here with the servers' production settings, under Flask's test client; every
statement the database driver is sent (SQLAlchemy's `before_cursor_execute`) is counted.
Each request is made once to warm up and counted the second time.
"""

import re
from collections.abc import Callable

from flask import Flask
from sqlalchemy import event

from shop.extensions import db

from .client import signed_event
from .prepare import LARGE, PASSWORD, SMALL

#: The tests' client talks https, as the router does in production (the cookie is Secure);
#: CSRF then also checks the Referer, as browsers send it.
BASE_URL = "https://127.0.0.1"
ORIGIN = {"Referer": BASE_URL + "/"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def probes(
    product_id: int, search: str, event_body: Callable, api_token: str = "", sku: str = ""
) -> dict[str, Callable]:
    """One request per benchmarked endpoint (same names as the load's), for a test client;
    the JSON API's too when given a token and the SKU to add."""

    def htmx(token: str) -> dict[str, str]:
        """Headers htmx sends from the page."""
        return {"HX-Request": "true", "X-CSRFToken": token, **ORIGIN}

    def webhook(client, token):
        """The duplicate delivery of an already handled event."""
        body, signature = event_body()
        return client.post(
            "/stripe/webhook",
            data=body,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )

    script = {"Authorization": f"Bearer {api_token}"}
    api = {
        "GET /api/v1/products": lambda c, t: c.get("/api/v1/products", headers=script),
        "POST /api/v1/cart/items": lambda c, t: c.post(
            "/api/v1/cart/items", json={"sku": sku, "quantity": 1}, headers=script
        ),
    }
    return {
        **(api if api_token else {}),
        "GET / (logged in)": lambda c, t: c.get("/"),
        "GET /?q= (htmx)": lambda c, t: c.get(f"/?q={search}", headers=htmx(t)),
        "GET /cart (htmx)": lambda c, t: c.get("/cart", headers=htmx(t)),
        "POST /cart/items (htmx)": lambda c, t: c.post(
            "/cart/items", data={"product_id": product_id, "quantity": 1}, headers=htmx(t)
        ),
        "GET /orders (htmx)": lambda c, t: c.get("/orders", headers=htmx(t)),
        "POST /stripe/webhook (dup)": webhook,
        "GET /healthz": lambda c, t: c.get("/healthz"),
        # The plain pages of the modals too: the page and its fragment share one query set.
        "GET /cart (page)": lambda c, t: c.get("/cart"),
        "GET /orders (page)": lambda c, t: c.get("/orders"),
    }


class HttpsClient:
    """Flask's test client, always over https."""

    def __init__(self, app: Flask) -> None:
        """A new client (no cookies yet) of `app`."""
        self.client = app.test_client()

    def get(self, path: str, **kwargs):
        """GET over https."""
        return self.client.get(path, base_url=BASE_URL, **kwargs)

    def post(self, path: str, **kwargs):
        """POST over https."""
        return self.client.post(path, base_url=BASE_URL, **kwargs)


def login(app: Flask, customer: str) -> tuple[HttpsClient, str]:
    """A test client logged in as `customer` through the form, and its page's CSRF token."""
    client = HttpsClient(app)
    token = CSRF_META.search(client.get("/login").get_data(as_text=True)).group(1)
    form = {"email": customer, "password": PASSWORD, "csrf_token": token}
    answer = client.post("/login", data=form, headers=ORIGIN)
    if answer.status_code != 302:
        raise RuntimeError(f"bench login failed: {answer.status_code}")
    return client, CSRF_META.search(client.get("/").get_data(as_text=True)).group(1)


def count(app: Flask, customer: str, requests: dict[str, Callable]) -> dict[str, int]:
    """Statements per request for each probe, made as `customer` (logged in through the form)."""
    client, token = login(app, customer)

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        """Count one statement."""
        statements.append(statement)

    counts = {}
    for name, make in requests.items():
        make(client, token)  # warm-up: first connection, first compile
        event.listen(engine, "before_cursor_execute", record)
        try:
            statements.clear()
            response = make(client, token)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        if response.status_code >= 400:
            raise RuntimeError(f"query probe {name} answered {response.status_code}")
        counts[name] = len(statements)
    return counts


def round_trips(app: Flask, customer: str, requests: dict[str, Callable], relay) -> dict[str, int]:
    """Round trips to the database per request for each probe, made as `customer` by `app`,
    whose database is reached through `relay` (a `wire.RoundTripRelay`)."""
    client, token = login(app, customer)
    counts = {}
    for name, make in requests.items():
        make(client, token)  # warm-up: the pool's connection is open and in use
        before = relay.count
        response = make(client, token)
        if response.status_code >= 400:
            raise RuntimeError(f"round-trip probe {name} answered {response.status_code}")
        counts[name] = relay.count - before
    return counts


def count_all(app: Flask, customer: str, requests: dict[str, Callable]) -> dict[str, list[int]]:
    """Per probe: statements for the bench customer, the smallest and the largest history."""
    by_customer = [count(app, email, requests) for email in (customer, SMALL[0], LARGE[0])]
    return {name: [counts[name] for counts in by_customer] for name in requests}


def duplicate_event(secret: str) -> tuple[dict, Callable]:
    """A Stripe event and a function signing it afresh (a signature is good for 5 minutes)."""
    stripe_event = {
        "id": "evt_bench_duplicate",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_bench_unknown", "object": "checkout.session"}},
    }
    return stripe_event, lambda: signed_event(stripe_event, secret)
