"""Leaving Stripe's page while the payment goes through, with 4 gunicorn workers on
PostgreSQL: the customer's `GET /checkout/cancel` races the payment and its webhook. Each
round ends either cancelled with nothing charged or paid; never cancelled and charged."""

import time
import uuid
from collections import Counter

import pytest
import requests

from .shop_server import completed_event, session_id_of, together

pytestmark = pytest.mark.postgres

ROUNDS = 12


def race(server, products, delay: float) -> tuple[str, str, int]:
    """One round: (order status, Stripe session status, units still held)."""
    customer = server.add_customer()
    line = {"product_id": products["MUG-STONE"], "quantity": 1}
    assert customer.send("POST", "/cart/items", line).status_code == 200
    session_id = session_id_of(customer.send("POST", "/checkout").headers["HX-Redirect"])

    def pay():
        """Stripe takes the card (if the session is still open), then sends the event."""
        time.sleep(delay)
        taken = server.execute(
            "UPDATE emulator_checkout_sessions SET status = 'complete', "
            "payment_status = 'paid', payment_intent = :intent "
            "WHERE id = :id AND status = 'open'",
            id=session_id,
            intent=f"pi_{uuid.uuid4().hex[:24]}",
        )
        if taken:
            session = server.stripe_api().v1.checkout.sessions.retrieve(session_id).to_dict()
            body, headers = server.webhook(completed_event(session))
            requests.post(server.url("/stripe/webhook"), data=body, headers=headers, timeout=30)

    def leave():
        return customer.http.get(server.url("/checkout/cancel"), timeout=60)

    (_, left), _ = together(2, lambda i: pay() if i == 0 else leave())
    assert left.status_code == 200
    order = server.rows(
        "SELECT status, stock_hold FROM orders WHERE stripe_session_id = :s", s=session_id
    )[0]
    stripe_status = server.scalar(
        "SELECT status FROM emulator_checkout_sessions WHERE id = :s", s=session_id
    )
    return order.status, stripe_status, order.stock_hold


def test_a_cancel_racing_a_payment_ends_paid_or_uncharged_never_both(server, products):
    outcomes = Counter(race(server, products, delay=(n % 4) * 0.01) for n in range(ROUNDS))
    print(f"\n{ROUNDS} cancels racing a payment: {dict(outcomes)}")
    assert set(outcomes) <= {
        ("cancelled", "expired", "released"),  # the cancel closed the session first
        ("paid", "complete", "sold"),  # Stripe took the payment first: recorded as paid
    }, outcomes
    assert sum(outcomes.values()) == ROUNDS
