"""`flask payments reconcile`: with the webhook endpoint silent, nothing is lost; applied
again, or followed by the late webhooks themselves, nothing is doubled."""

import pytest
from cart_helpers import login_client
from sqlalchemy import select

from checkout_helpers import add, checkout, orders, pay
from conftest import FAST_HASH, PASSWORD
from shop.auth import services as auth_services
from shop.cart.models import CartItem
from shop.extensions import db
from shop.orders.models import OrderEvent
from shop.payments import emulator
from shop.payments.emulator import events as emulator_events
from stripe_helpers import app_with, recorded_events


@pytest.fixture
def silent(migrated):
    """The shop with a webhook endpoint Stripe never reaches (events recorded, not sent)."""
    with app_with(migrated, STRIPE_EMULATOR_WEBHOOKS=False) as app:
        yield app


@pytest.fixture
def catalogue(silent):
    """The seeded catalogue of the silent app: product ids by SKU."""
    from shop.catalog import services
    from shop.catalog.models import Product

    with silent.app_context():
        services.seed_products(services.read_seed_file())
        return {p.sku: p.id for p in db.session.scalars(select(Product))}


def buy(app, catalogue, email: str) -> int:
    """A customer checks out two mugs and pays, and never comes back to the success page."""
    with app.app_context():
        auth_services.register_user(email, PASSWORD, FAST_HASH)
    client = login_client(app, email)
    add(client, catalogue["MUG-STONE"], 2)
    checkout(client)
    order = orders(app)[-1]
    delivery = pay(app, order.stripe_session_id)
    assert delivery["status_code"] is None  # recorded by Stripe, never delivered
    return order.id


def timeline(app, order_id: int) -> list[tuple[str, str]]:
    """(kind, source) of an order's timeline."""
    with app.app_context():
        rows = db.session.execute(
            select(OrderEvent.kind, OrderEvent.source)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.id)
        )
        return [tuple(row) for row in rows]


def test_reconcile_applies_what_the_webhook_missed_once(silent, catalogue):
    paid = [buy(silent, catalogue, f"r{n}@example.com") for n in range(3)]
    assert [o.status for o in orders(silent)] == ["pending"] * 3

    runner = silent.test_cli_runner()
    first = runner.invoke(args=["payments", "reconcile"])
    assert first.exit_code == 0, first.output
    assert "reconcile: 3 applied, 0 already recorded" in first.output
    for order_id in paid:
        assert f"checkout.session.completed (order {order_id})" in first.output
    assert [o.status for o in orders(silent)] == ["paid"] * 3
    assert timeline(silent, paid[0]) == [("created", "checkout"), ("paid", "reconcile")]

    again = runner.invoke(args=["payments", "reconcile"])
    assert "reconcile: 0 applied, 3 already recorded" in again.output

    # The endpoint comes back and Stripe delivers the same events after all: no effect.
    with silent.test_request_context():
        completed = [e["id"] for e in recorded_events() if e["type"].endswith("completed")]
        answers = [emulator_events.deliver(event_id) for event_id in completed]
    assert [a["status_code"] for a in answers] == [200] * 3
    assert all("duplicate" in a["body"] for a in answers)
    assert [o.status for o in orders(silent)] == ["paid"] * 3
    assert timeline(silent, paid[0]) == [("created", "checkout"), ("paid", "reconcile")]
    with silent.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(CartItem)) == 0


def test_reconcile_says_so_when_stripe_cannot_be_asked(silent, catalogue):
    with silent.app_context():
        emulator.fail_next("api_error")
    result = silent.test_cli_runner().invoke(args=["payments", "reconcile", "--since", "1"])
    assert result.exit_code != 0
    assert "Stripe could not be asked" in result.output


def test_reconcile_refuses_a_nonsense_window(app, runner):
    result = runner.invoke(args=["payments", "reconcile", "--since", "0"])
    assert result.exit_code != 0 and "--since" in result.output


def test_an_event_older_than_the_window_is_left_alone(silent, catalogue, monkeypatch):
    import time

    buy(silent, catalogue, "old@example.com")
    later = time.time() + 5 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    result = silent.test_cli_runner().invoke(args=["payments", "reconcile", "--since", "2"])
    assert "reconcile: 0 applied" in result.output
    assert orders(silent)[0].status == "pending"
