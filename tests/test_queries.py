"""SQL statements per request stay few and fixed, whatever a customer's cart or history holds.

The benchmark (`make bench`) prints the same counts for the routes it loads; these tests keep
them from creeping up between benchmarks.
"""

import json

import pytest
from cart_helpers import HTMX, clear_cart, fill_cart, make_products

from bench.prepare import CUSTOMER, CUSTOMER_LINES, CUSTOMER_ORDERS, LARGE, SMALL, prepare
from checkout_helpers import make_orders
from conftest import count_queries
from shop.auth.models import User
from shop.cart.models import CartItem
from shop.extensions import db
from shop.orders.models import Order
from stripe_helpers import load_event, signed


def queries_for(app, client, path: str, headers=None) -> list[str]:
    """The statements one GET runs (after a first, uncounted one)."""
    client.get(path, headers=headers or {})
    with count_queries(app) as statements:
        response = client.get(path, headers=headers or {})
    assert response.status_code == 200
    return statements


@pytest.mark.parametrize(
    ("path", "headers", "most"),
    [("/", {}, 4), ("/?q=test", HTMX, 4), ("/cart", {}, 4), ("/cart", HTMX, 3)],
    ids=["page", "search", "cart page", "cart fragment"],
)
def test_shop_page_queries_are_the_same_for_1_and_40_lines(app, client, user, path, headers, most):
    ids = make_products(app, 40)
    fill_cart(app, user, ids[:1])
    one = queries_for(app, client, path, headers)
    clear_cart(app, user)
    fill_cart(app, user, ids)
    forty = queries_for(app, client, path, headers)
    assert len(one) == len(forty) <= most, (one, forty)


@pytest.mark.parametrize(("headers", "most"), [({}, 4), (HTMX, 3)], ids=["page", "fragment"])
def test_orders_queries_are_the_same_for_1_and_200_orders(app, client, user, seeded, headers, most):
    make_orders(app, user, seeded["MUG-STONE"], 1)
    one = queries_for(app, client, "/orders", headers)
    make_orders(app, user, seeded["MUG-STONE"], 199)
    many = queries_for(app, client, "/orders", headers)
    assert len(one) == len(many) <= most, (one, many)


def test_a_duplicate_webhook_costs_one_query(app, client):
    payload = json.dumps(load_event("checkout.session.completed.json"))
    headers = signed(payload)
    assert client.post("/stripe/webhook", data=payload, headers=headers).status_code == 200
    with count_queries(app) as statements:
        response = client.post("/stripe/webhook", data=payload, headers=headers)
    assert response.get_json() == {"received": "duplicate event ignored"}
    assert len(statements) == 1, statements


def test_healthz_is_one_query(app, client):
    assert len(queries_for(app, client, "/healthz")) == 1


def test_the_bench_data_is_prepared_and_prepared_again_alike(app):
    def history(email):
        user = db.session.scalar(db.select(User).where(User.email == email))
        lines = db.session.scalar(
            db.select(db.func.count()).select_from(CartItem).where(CartItem.user_id == user.id)
        )
        orders = db.session.scalar(
            db.select(db.func.count()).select_from(Order).where(Order.user_id == user.id)
        )
        return lines, orders

    for _ in range(2):  # idempotent: a second run resets the bench customers' data
        prepared = prepare(app, migrate=False)
        with app.app_context():
            assert history(CUSTOMER) == (CUSTOMER_LINES, CUSTOMER_ORDERS)
            assert history(SMALL[0]) == SMALL[1:]
            assert history(LARGE[0]) == LARGE[1:]
    assert len(prepared.product_ids) == 10  # the seeded catalogue, all shown on the page
