"""A dispute racing a refund, with 4 gunicorn workers on PostgreSQL: a lost dispute of the
whole charge and an admin's refund of everything, at once, never give back more than was
paid; whichever comes first takes the money, and the other takes nothing."""

import secrets
import time

import pytest
import requests

from .shop_server import together
from .test_refund_proofs import an_admin, paid_order, stripe_refunds

pytestmark = pytest.mark.postgres

ROUNDS = 6


def lost_dispute(intent: str, amount: int) -> dict:
    """`charge.dispute.closed` (lost) for the whole charge of a PaymentIntent, as Stripe
    sends it (the fields the shop reads; the emulator's own command makes the full shape)."""
    now = int(time.time())
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "type": "charge.dispute.closed",
        "created": now,
        "livemode": False,
        "data": {
            "object": {
                "id": f"dp_{secrets.token_hex(12)}",
                "object": "dispute",
                "amount": amount,
                "currency": "usd",
                "charge": f"ch_{secrets.token_hex(12)}",
                "payment_intent": intent,
                "reason": "fraudulent",
                "status": "lost",
                "evidence_details": {"due_by": now + 7 * 86400},
            }
        },
    }


def race(server, admin, products, delay: float) -> str:
    """One paid order; its lost dispute and a full refund at once (the refund `delay` s
    later); which came first, once the invariants are checked."""
    order_id, intent = paid_order(server, products)
    total = server.scalar("SELECT total_cents FROM orders WHERE id = :o", o=order_id)
    body, headers = server.webhook(lost_dispute(intent, total))
    tab = admin.tab()
    path = f"/admin/orders/{order_id}/refunds"

    def act(i: int):
        if i == 0:
            return requests.post(server.url("/stripe/webhook"), data=body, headers=headers)
        time.sleep(delay)
        return tab.send("POST", path, {"amount": "", "full": "on", "key": secrets.token_hex(16)})

    (dispute, refund), _ = together(2, act)
    assert dispute.status_code == 200, dispute.text
    assert refund.status_code in (200, 409), refund.text
    refunded, lost, state = server.rows(
        "SELECT refunded_cents, dispute_lost_cents, dispute FROM orders WHERE id = :o",
        o=order_id,
    )[0]
    made = stripe_refunds(server, intent)
    assert state == "lost"
    assert refunded + lost == total  # all of it went back, once
    entries = server.scalar(
        "SELECT count(*) FROM order_events WHERE order_id = :o AND kind = 'dispute'", o=order_id
    )
    assert entries == 1
    if refund.status_code == 200:  # the refund came first: the dispute took nothing
        assert (len(made), refunded, lost) == (1, total, 0)
        return "refund"
    assert "disputed" in refund.text  # the dispute came first: refused, nothing sent
    assert (made, refunded, lost) == ([], 0, total)
    return "dispute"


def test_a_lost_dispute_racing_a_refund_returns_the_money_once(server, products):
    admin = an_admin(server)
    # Every other round the refund leaves a moment later, so both orders are tried.
    firsts = [race(server, admin, products, 0.2 * (n % 2)) for n in range(ROUNDS)]
    print(f"\n{ROUNDS} races of a lost dispute and a full refund: first came {firsts}")
