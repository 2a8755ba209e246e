"""Disputes, as a card network opens them: `flask emulator dispute ORDER_ID [--lose|--win]`.

Stripe opens a dispute when the card holder's bank says so; nothing in its API opens one
(test mode uses special cards). The emulator opens one on a paid order's charge for the
amount not refunded, records `charge.dispute.created` (status `needs_response`, evidence
due in 7 days) and, with `--lose` or `--win`, `charge.dispute.updated` (`under_review`,
evidence submitted) and `charge.dispute.closed`; then delivers them signed, like any event.
"""

from typing import Any

from sqlalchemy import select

from . import eventlog, shapes, store
from .models import EmulatorPayment

#: Stripe's default answer window for a chargeback.
EVIDENCE_DAYS = 7
REASON = "fraudulent"


def dispute_shape(
    payment: EmulatorPayment, dispute_id: str, amount: int, status: str, created: int
) -> dict[str, Any]:
    """A `dispute` object on the payment's charge."""
    submitted = status not in ("needs_response", "warning_needs_response")
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": payment.charge_id,
        "created": created,
        "currency": payment.currency,
        "enhanced_eligibility_types": [],
        "evidence": {"enhanced_evidence": {}},
        "evidence_details": {
            "due_by": created + EVIDENCE_DAYS * 86400,
            "enhanced_eligibility": {},
            "has_evidence": submitted,
            "past_due": False,
            "submission_count": 1 if submitted else 0,
            "submission_method": "manual" if submitted else "not_submitted",
        },
        "intended_submission_method": None,
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "network_reason_code": "10.4",
        "payment_intent": payment.payment_intent_id,
        "payment_method_details": {
            "type": "card",
            "card": {
                "brand": "visa",
                "case_type": "chargeback",
                "network": "visa",
                "network_reason_code": "10.4",
            },
        },  # fmt: skip
        "reason": REASON,
        "status": status,
    }


def paid_payment(order_id: int) -> EmulatorPayment | None:
    """The succeeded payment whose session was made for this order (metadata.order_id)."""
    with store.transaction() as s:
        rows = s.scalars(
            select(EmulatorPayment)
            .where(EmulatorPayment.status == "succeeded")
            .order_by(EmulatorPayment.pk.desc())
        )
        for row in rows:
            if str(row.meta.get("order_id")) == str(order_id):
                s.expunge(row)
                return row
    return None


def open_dispute(order_id: int, outcome: str | None, now: int) -> list[str]:
    """Record a dispute's events on the order's charge (and, with an outcome of "won" or
    "lost", its review and close); the ids of the events recorded. LookupError if the
    order has no paid charge, ValueError if all of it was refunded."""
    payment = paid_payment(order_id)
    if payment is None:
        raise LookupError(f"order {order_id} has no paid charge in the emulator")
    amount = payment.amount - payment.amount_refunded
    if amount <= 0:
        raise ValueError(f"order {order_id} is refunded in full: nothing left to dispute")
    dispute_id = shapes.new_id("dp_")
    steps = [("charge.dispute.created", "needs_response")]
    if outcome is not None:
        steps += [("charge.dispute.updated", "under_review"), ("charge.dispute.closed", outcome)]
    ids = []
    with store.transaction() as s:
        for n, (event_type, status) in enumerate(steps):
            shape = dispute_shape(payment, dispute_id, amount, status, now)
            previous = {"status": steps[n - 1][1]} if event_type.endswith(".updated") else None
            ids.append(eventlog.add_event(s, event_type, shape, now, previous=previous).id)
    return ids
