"""The JSON API under real concurrency: 4 gunicorn workers on PostgreSQL, a script's
requests released together. The API calls the pages' services, so the one-pending rule
and the cart's row locks hold for it too; idempotency keys add that a repeat runs once."""

import re
import uuid
from collections import Counter

import pytest
import requests

from .shop_server import together

pytestmark = pytest.mark.postgres

CLICKS = 20
SERVER_SETTINGS = {"CART_MAX_QUANTITY": "100"}
NEW_TOKEN = re.compile(r"data-new-token[^>]*>([^<]+)<")


def script(server, customer) -> requests.Session:
    """A token made on the customer's account page, in a cookie-less client of its own."""
    page = customer.send("POST", "/account/tokens", {"name": "proof", "csrf_token": customer.token})
    assert page.status_code == 201, page.text[-800:]
    client = requests.Session()
    client.headers.update({"Authorization": f"Bearer {NEW_TOKEN.search(page.text).group(1)}",
                           "X-Forwarded-Proto": "https"})  # fmt: skip
    return client


def post(server, client, path: str, body: dict | None = None, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(server.url(path), json=body or {}, headers=headers, timeout=60)


@pytest.mark.parametrize("keyed", [True, False], ids=["one key", "no key"])
def test_twenty_parallel_api_checkouts_open_one_session(server, products, keyed):
    ada = server.add_customer()
    api = script(server, ada)
    assert post(server, api, "/api/v1/cart/items", {"sku": "BEAN-ETH-250", "quantity": 2}).ok
    key = str(uuid.uuid4()) if keyed else None
    clients = [requests.Session() for _ in range(CLICKS)]
    for client in clients:
        client.headers.update(api.headers)

    answers, seconds = together(
        CLICKS, lambda i: post(server, clients[i], "/api/v1/checkout", key=key)
    )

    statuses = Counter(answer.status_code for answer in answers)
    started = {(a.json()["order_id"], a.json()["url"]) for a in answers if a.ok}
    replays = sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers)
    sessions = server.sessions_of(ada.user_id)
    print(f"\n{CLICKS} parallel API checkouts ({'one key' if keyed else 'no key'}) in "
          f"{seconds:.2f}s: statuses {dict(statuses)}, replays {replays}, "
          f"sessions {len(sessions)}")  # fmt: skip
    assert len(sessions) == 1 and len(started) == 1
    if keyed:
        # The first runs; the rest replay its answer, or (while it runs) are told to retry.
        assert set(statuses) <= {201, 409} and statuses[201] >= 1
        busy = [a.json()["detail"] for a in answers if a.status_code == 409]
        assert all("still running" in detail for detail in busy)
        again = post(server, api, "/api/v1/checkout", key=key)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    else:
        assert set(statuses) <= {200, 201} and statuses[201] == 1


def _clients(api: requests.Session) -> list[requests.Session]:
    clients = [requests.Session() for _ in range(CLICKS)]
    for client in clients:
        client.headers.update(api.headers)
    return clients


def _quantity(server, user_id: int, product_id: int) -> int:
    return server.scalar(
        "SELECT quantity FROM cart_items WHERE user_id = :u AND product_id = :p",
        u=user_id,
        p=product_id,
    )


def test_twenty_parallel_api_adds_arrive_at_the_exact_quantity(server, products):
    bob = server.add_customer()
    clients = _clients(script(server, bob))
    server.execute("UPDATE products SET stock = NULL WHERE sku = 'BEAN-COL-250'")
    body = {"sku": "BEAN-COL-250", "quantity": 1}

    answers, seconds = together(
        CLICKS, lambda i: post(server, clients[i], "/api/v1/cart/items", body)
    )

    statuses = Counter(answer.status_code for answer in answers)
    quantity = _quantity(server, bob.user_id, products["BEAN-COL-250"])
    print(f"\n{CLICKS} parallel API adds in {seconds:.2f}s: statuses {dict(statuses)}, "
          f"final quantity {quantity}")  # fmt: skip
    assert statuses == {200: CLICKS} and quantity == CLICKS


def test_parallel_adds_sharing_a_key_add_once(server, products):
    cleo = server.add_customer()
    clients = _clients(script(server, cleo))
    server.execute("UPDATE products SET stock = NULL WHERE sku = 'MUG-STONE'")
    shared = str(uuid.uuid4())
    body = {"sku": "MUG-STONE", "quantity": 1}

    def add(index: int):
        """Even clients add with a key of their own; odd ones all send the same key."""
        key = shared if index % 2 else str(uuid.uuid4())
        return post(server, clients[index], "/api/v1/cart/items", body, key)

    answers, seconds = together(CLICKS, add)

    statuses = Counter(answer.status_code for answer in answers)
    quantity = _quantity(server, cleo.user_id, products["MUG-STONE"])
    print(f"\n{CLICKS} parallel API adds, half sharing one key, in {seconds:.2f}s: "
          f"statuses {dict(statuses)}, final quantity {quantity}")  # fmt: skip
    # Ten keys of their own add one each; the ten sharing a key add one between them (the
    # rest replay that answer, or are told it is still running).
    assert quantity == CLICKS // 2 + 1
    assert set(statuses) <= {200, 409} and statuses[200] >= CLICKS // 2 + 1
