"""Helpers for checkout tests: fill the cart, check out, pay, and sign webhook events."""

import json
from pathlib import Path

from sqlalchemy import select

from conftest import csrf_token
from shop.auth.models import User
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import PAID_STATES, Order, OrderItem
from shop.payments import emulator
from stripe_helpers import signed_event

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"


def add(client, product_id: int, quantity: int = 1):
    """Add to the cart through the product card's form."""
    data = {"product_id": product_id, "quantity": quantity, "csrf_token": csrf_token(client)}
    response = client.post("/cart/items", data=data)
    assert response.status_code in (200, 303), response.get_data(as_text=True)
    return response


def checkout(client, htmx: bool = True):
    """Press the Checkout button (htmx or a plain form post)."""
    token = csrf_token(client)
    if htmx:
        return client.post("/checkout", headers={"HX-Request": "true", "X-CSRFToken": token})
    return client.post("/checkout", data={"csrf_token": token})


def pay(app, session_id: str, card: str = "4242424242424242") -> dict:
    """Pay a session on the emulator's hosted page (its seam): the delivery of the event."""
    with app.test_request_context():
        return emulator.pay(session_id, card)


def session_url(response) -> str:
    """Where a checkout answer sends the browser (HX-Redirect or Location)."""
    return response.headers.get("HX-Redirect") or response.headers["Location"]


def orders(app, user_id: int | None = None) -> list[Order]:
    """All orders (of one user), oldest first, with items loaded."""
    with app.app_context():
        statement = select(Order).order_by(Order.id)
        if user_id is not None:
            statement = statement.where(Order.user_id == user_id)
        found = list(db.session.scalars(statement))
        for order in found:
            _ = order.items
        db.session.expunge_all()
        return found


def fixture_event(name: str, order: Order, event_id: str | None = None) -> dict:
    """A real Stripe payload from tests/fixtures/stripe, adapted to `order`."""
    event = json.loads((FIXTURES / name).read_text())
    session = event["data"]["object"]
    session["id"] = order.stripe_session_id
    session["client_reference_id"] = str(order.user_id)
    session["metadata"] = {"order_id": str(order.id)}
    session["amount_total"] = session["amount_subtotal"] = order.total_cents
    session["currency"] = order.currency
    if event_id:
        event["id"] = event_id
    return event


def deliver(client, app, event: dict):
    """POST a signed event to the webhook."""
    body, headers = signed_event(event, app.config["STRIPE_WEBHOOK_SECRET"])
    return client.post("/stripe/webhook", data=body, headers=headers)


#: Where a test order ships, as Stripe's page collects it.
ADDRESS = {
    "name": "Ada Lovelace", "line1": "12 Analytical Row", "line2": "", "city": "Berlin",
    "postal_code": "10115", "state": "", "country": "DE",
}  # fmt: skip


def make_orders(app, user_id: int, product_id: int, count: int = 1, **values) -> list[int]:
    """`count` orders of one line (2 units) straight in the database; their ids, oldest first.

    `values` sets columns (status, currency, total_cents, paid_at, created_at...); a paid
    order gets a payment time unless one is given, and every order ships to `ADDRESS`
    unless `shipping_address=None` (an order from before addresses were collected).
    """
    values = {
        "status": "paid", "currency": "usd", "total_cents": 1000, "shipping_address": ADDRESS,
        **values,
    }  # fmt: skip
    if values["status"] in PAID_STATES:
        values.setdefault("paid_at", utcnow())
    with app.app_context():
        made = [
            Order(
                user_id=user_id,
                cart_fingerprint="f",
                items=[
                    OrderItem(product_id=product_id, name="Thing", unit_price_cents=500, quantity=2)
                ],
                **values,
            )
            for _ in range(count)
        ]
        db.session.add_all(made)
        db.session.commit()
        return [order.id for order in made]


def session_email(app, session: dict) -> str | None:
    """Whom a Checkout Session is for: its `customer_email`, or its Customer's email (the
    shop sends an account's Customer, and Stripe takes one or the other)."""
    if not session.get("customer"):
        return session.get("customer_email")
    from stripe_helpers import stripe_client

    with app.app_context():
        return stripe_client().v1.customers.retrieve(session["customer"]).email


def give_stripe_customer(app, user_id: int) -> str:
    """Make the account's Stripe Customer now, as its first checkout would, so a fault
    queued next (`emulator.fail_next`) hits the session's creation."""
    from shop.checkout.services import _stripe_customer

    with app.app_context():
        email = db.session.scalar(select(User.email).where(User.id == user_id))
        return _stripe_customer(user_id, email)
