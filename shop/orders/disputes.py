"""Disputes (chargebacks): a customer asks their bank for the money back, and the bank decides.

A dispute is an axis of its own beside the payment status (`Order.dispute`: open, won or
lost; NULL without one). The status keeps its history (paid, partly refunded...): a
dispute does not undo a payment, it holds its money back until the bank decides, and a
won dispute gives it back without the status ever having moved. A lost dispute's amount
counts as money returned (`Order.dispute_lost_cents`, beside `refunded_cents`), in the
order's totals and the dashboard's revenue; a won one counts nothing.

`charge.dispute.created`, `.updated` and `.closed` each carry the whole dispute, so every
event is handled alike by `sync`: with the order's row locked, the dispute is written as
Stripe has it (a status never gives way to a less final one, so events in any order leave
it as Stripe last had it), and the order's axis and lost amount are set from all of its
disputes. The first event of a dispute, whichever it is, flags the order for an admin and
emails every admin once (the outbox's cause names the dispute).
"""

import logging
from datetime import datetime

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import payments
from ..auth.models import User
from ..auth.notices import enqueue_account_notice
from ..extensions import db
from ..money import format_money
from ..notifications.messages import absolute_url
from . import lifecycle
from .lifecycle import Origin
from .models import REFUND_COMMITTED, Dispute, DisputeState, Order, Refund

log = logging.getLogger(__name__)

#: Stripe's dispute statuses by how final they are: warnings and responses come first,
#: review after, the bank's decision last.
FINALITY = {
    "warning_needs_response": 0,
    "needs_response": 0,
    "warning_under_review": 1,
    "under_review": 1,
    "appeal_needs_response": 1,
    "appeal_under_review": 1,
    "won": 2,
    "lost": 2,
    "warning_closed": 2,
    "prevented": 2,
}
#: What a Stripe status means for the order's dispute axis.
CLOSED_AS = {"won": DisputeState.WON, "warning_closed": DisputeState.WON,
             "prevented": DisputeState.WON, "lost": DisputeState.LOST}  # fmt: skip
#: What an admin reads on the order while a dispute is open.
ATTENTION = (
    "The customer disputed the payment with their bank: the money is held back until the "
    "bank decides. Do not ship before answering the dispute in the Stripe Dashboard."
)
EVENT_TYPES = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")


def state_of(status: str) -> DisputeState:
    """The order's dispute axis for one Stripe status."""
    return CLOSED_AS.get(status, DisputeState.OPEN)


def _order_of(made: payments.Dispute) -> int | None:
    """The order paid by the disputed charge's PaymentIntent."""
    if made.payment_intent_id is None:
        return None
    return db.session.scalar(
        select(Order.id).where(Order.payment_intent_id == made.payment_intent_id)
    )


def sync(made: payments.Dispute, origin: Origin) -> None:
    """Write a dispute as Stripe has it and bring its order in line; the caller commits
    (the webhook's transaction records the event with this work)."""
    order_id = _order_of(made)
    if order_id is None:
        log.info("dispute %s: no order for PaymentIntent %s", made.id, made.payment_intent_id)
        return
    lifecycle.lock(order_id)  # events about one order (and its refunds) apply one by one
    row = db.session.scalar(select(Dispute).where(Dispute.stripe_dispute_id == made.id))
    before = None if row is None else row.status
    if row is None:
        row = Dispute(
            order_id=order_id,
            stripe_dispute_id=made.id,
            amount_cents=made.amount,
            currency=made.currency,
            reason=made.reason,
            status=made.status,
            evidence_due_by=made.evidence_due_by,
        )
        db.session.add(row)
    elif FINALITY.get(made.status, 1) >= FINALITY.get(row.status, 1):
        row.status, row.amount_cents = made.status, made.amount
        row.reason = made.reason or row.reason
        row.evidence_due_by = made.evidence_due_by or row.evidence_due_by
    db.session.flush()
    if before is None:
        _opened(row, origin)
    if before is not None and state_of(before) == state_of(row.status):
        settle(order_id)
        return
    if state_of(row.status) != DisputeState.OPEN:
        amount = format_money(row.amount_cents, row.currency)
        lifecycle.record(order_id, f"dispute_{state_of(row.status)}", origin,
                         f"{amount} {row.status.replace('_', ' ')}")  # fmt: skip
    settle(order_id)


def _opened(row: Dispute, origin: Origin) -> None:
    """The first the shop hears of a dispute: the timeline, the flag and the admins' email."""
    amount = format_money(row.amount_cents, row.currency)
    reason = row.reason.replace("_", " ") or "no reason given"
    due = _day(row.evidence_due_by)
    link = payments.dashboard_link(row.stripe_dispute_id)
    note = f"{amount}, {reason}, evidence due {due}" + (f"; {link}" if link else "")
    lifecycle.record(
        row.order_id, "dispute", Origin(origin.source, row.stripe_dispute_id, origin.actor_id), note
    )
    if state_of(row.status) == DisputeState.OPEN:
        lifecycle.flag(row.order_id, ATTENTION)
    for email in db.session.scalars(select(User.email).where(User.is_admin.is_(True))):
        enqueue_account_notice(
            email,
            cause=f"dispute:{row.stripe_dispute_id}:{email}",
            subject=_("Order #%(order_id)s is disputed", order_id=row.order_id),
            paragraphs=[
                _(
                    "The customer disputed %(amount)s of order #%(order_id)s with their bank "
                    "(%(reason)s). The money is held back until the bank decides.",
                    amount=amount,
                    order_id=row.order_id,
                    reason=reason,
                ),
                _("Evidence is due %(due)s. Answer in the Stripe Dashboard", due=due)
                + (f": {link}" if link else "."),
            ],
            action_url=absolute_url("admin.order", order_id=row.order_id),
            action_label="Open the order",
        )


def _day(moment: datetime | None) -> str:
    """An evidence deadline as admins read it."""
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else "(no date given)"


def settle(order_id: int) -> None:
    """The order's dispute axis and lost amount, from all of its disputes: open while any
    is open, else lost if any was lost, else won. A lost amount never takes back what
    refunds took or may yet take (pending ones count: Stripe disputes what was not
    refunded), so money goes back once. The caller holds the order's row (`lifecycle.lock`);
    refunds call this again whenever they settle. No disputes: nothing to do."""
    rows = db.session.execute(
        select(Dispute.status, Dispute.amount_cents).where(Dispute.order_id == order_id)
    ).all()
    if not rows:
        return
    states = [state_of(status) for status, _count in rows]
    state = next(s for s in (DisputeState.OPEN, DisputeState.LOST, DisputeState.WON)
                 if s in states)  # fmt: skip
    lost = sum(amount for status, amount in rows if state_of(status) == DisputeState.LOST)
    total = db.session.scalar(select(Order.total_cents).where(Order.id == order_id))
    refunding = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.order_id == order_id, Refund.status.in_([str(s) for s in REFUND_COMMITTED])
        )
    )
    db.session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(dispute=str(state), dispute_lost_cents=max(0, min(lost, total - refunding)))
        .execution_options(synchronize_session=False)
    )


def on_dispute(event: payments.DisputeEvent) -> None:
    """`charge.dispute.*`: the dispute as Stripe has it."""
    sync(event.dispute, Origin.of_event(event))


def register(app: Flask) -> None:
    """Subscribe this app to the events that carry disputes."""
    for event_type in EVENT_TYPES:
        payments.on(app, event_type, on_dispute)
