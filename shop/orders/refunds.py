"""Refunds: asked for by an admin, made anywhere, kept in step with Stripe's own figures.

An admin's refund goes in three steps, so nothing is refunded twice and no amount is
promised twice:
1. Reserve: with the order's row locked, check it is paid and the amount fits what is
   left (pending refunds count as given), and write the refund row; commit.
2. Ask Stripe, holding no transaction, with an idempotency key made from the row's key:
   a double click (the form carries the same key), a retry or a timeout is one refund.
3. Record Stripe's answer on the row; a refusal marks it failed with Stripe's words.

Refunds made elsewhere (the Stripe Dashboard) and every later change reach the shop as
`refund.*` and `charge.refunded` events; `sync` writes each refund as Stripe has it (a
status never gives way to a less final one, so events in any order agree) and sets the
order's refunded total and status from the refunds that succeeded.
"""

import logging
import secrets
from dataclasses import dataclass

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import metrics, payments
from ..auth.models import User
from ..extensions import db
from ..money import format_money
from . import disputes, lifecycle, notices, stock
from .lifecycle import Origin
from .models import (
    PAID_STATES,
    REFUND_COMMITTED,
    REFUND_FINALITY,
    REFUND_REASONS,
    Order,
    Refund,
    RefundStatus,
    Source,
)

log = logging.getLogger(__name__)

#: Who made a refund the shop did not ask for.
ELSEWHERE = "Stripe Dashboard"


class RefundRefused(ValueError):
    """The refund cannot be made as asked; nothing was sent to Stripe. `status` is the
    HTTP status it deserves (409: the order cannot be refunded; 422: the amount)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class RefundFailed(Exception):
    """Stripe refused the refund; the row is marked failed with Stripe's words."""


class RefundPending(Exception):
    """Stripe could not be reached; the refund is reserved and will be confirmed (or sent
    again with the same key, which refunds once) when Stripe answers."""


@dataclass(frozen=True)
class Asked:
    """What came of an admin's request: the refund row, and whether it was made just now
    (False: the same form was sent before, and that refund stands)."""

    refund: Refund
    made_now: bool


def new_key() -> str:
    """A fresh refund key, for the admin's form (so a double click is one refund)."""
    return secrets.token_hex(16)


def left_to_refund(order_id: int) -> int:
    """What of the order can still be refunded: its total, less every refund that is not
    failed (pending ones count: they may yet go through)."""
    total = db.session.scalar(select(Order.total_cents).where(Order.id == order_id)) or 0
    committed = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.order_id == order_id, Refund.status.in_([str(s) for s in REFUND_COMMITTED])
        )
    )
    return total - committed


def request_refund(
    order_id: int,
    amount_cents: int | None,
    reason: str,
    admin_id: int,
    key: str,
    return_to_stock: bool = False,
) -> Asked:
    """Refund `amount_cents` of an order (None: all that is left) as an admin.

    `RefundRefused` when the order is not paid or the amount does not fit; `RefundFailed`
    when Stripe refuses; `RefundPending` when Stripe does not answer.
    """
    if reason and reason not in REFUND_REASONS:
        raise RefundRefused(
            _("Choose a reason Stripe knows: %(value)s.", value=", ".join(REFUND_REASONS)), 422
        )
    existing = db.session.scalar(select(Refund).where(Refund.key == key))
    if existing is None:
        refund, made_now = _reserve(order_id, amount_cents, reason, admin_id, key, return_to_stock)
    else:
        refund, made_now = existing, False
    if refund.order_id != order_id:
        raise RefundRefused(_("That form belongs to another order; reload the page."), 409)
    if refund.stripe_refund_id is None and refund.status == RefundStatus.PENDING:
        _send(refund.id)  # first time, or Stripe did not answer last time: same key again
    db.session.expire_all()
    return Asked(db.session.get(Refund, refund.id), made_now)


def _reserve(
    order_id: int,
    amount_cents: int | None,
    reason: str,
    admin_id: int,
    key: str,
    return_to_stock: bool,
) -> tuple[Refund, bool]:
    """Step 1: check and write the refund row with the order locked; commit. The row, and
    False if the same form's row was written meanwhile (a double click raced this one)."""
    if not lifecycle.lock(order_id):
        db.session.rollback()
        raise LookupError(order_id)
    twin = db.session.scalar(select(Refund).where(Refund.key == key))
    if twin is not None:
        db.session.rollback()
        return db.session.get(Refund, twin.id), False
    order = db.session.get(Order, order_id)
    if order.status not in PAID_STATES or order.payment_intent_id is None:
        db.session.rollback()
        raise RefundRefused(
            _(
                "Order #%(order_id)s is %(status)s: only a paid order can be refunded. Nothing "
                "was sent to Stripe.",
                order_id=order_id,
                status=order.status.replace("_", " "),
            ),
            409,
        )
    if order.dispute in lifecycle.DISPUTED:
        db.session.rollback()
        raise RefundRefused(
            _(
                "Order #%(order_id)s is disputed (%(dispute)s): its money is with the customer's "
                "bank, and Stripe refunds no disputed charge. Nothing was sent to Stripe.",
                order_id=order_id,
                dispute=order.dispute,
            ),
            409,
        )
    left = left_to_refund(order_id)
    amount = left if amount_cents is None else amount_cents
    if left <= 0:
        db.session.rollback()
        raise RefundRefused(
            _("Order #%(order_id)s is refunded in full already.", order_id=order_id), 409
        )
    if not 0 < amount <= left:
        db.session.rollback()
        raise RefundRefused(
            _(
                "Only %(format_money)s of order #%(order_id)s is left to refund. Nothing was sent"
                " to Stripe.",
                format_money=format_money(left, order.currency),
                order_id=order_id,
            ),
            422,
        )
    refund = Refund(
        order_id=order_id,
        key=key,
        amount_cents=amount,
        currency=order.currency,
        reason=reason,
        status=RefundStatus.PENDING,
        actor_id=admin_id,
        return_to_stock=return_to_stock,
    )
    db.session.add(refund)
    db.session.flush()
    refund_id = refund.id
    db.session.commit()
    return db.session.get(Refund, refund_id), True


def _send(refund_id: int) -> None:
    """Steps 2 and 3: ask Stripe (no transaction held), then record its answer."""
    refund = db.session.get(Refund, refund_id)
    order = db.session.get(Order, refund.order_id)
    intent, amount, reason, key = (
        order.payment_intent_id,
        refund.amount_cents,
        refund.reason,
        refund.key,
    )
    db.session.rollback()  # hold no pooled connection while Stripe answers
    try:
        made = payments.refund(intent, amount, reason, key)
    except payments.PaymentsUnavailable as error:
        log.warning("refund %s: Stripe unreachable: %s", refund_id, error.message)
        raise RefundPending(
            "Stripe did not answer. The refund is reserved; sending the form again refunds "
            "at most once."
        ) from None
    except payments.PaymentsError as error:
        _refused_by_stripe(refund_id, error.message)
        raise RefundFailed(error.message) from None
    sync(made, Origin(Source.ADMIN, made.id, actor_id=refund.actor_id))


def _refused_by_stripe(refund_id: int, message: str) -> None:
    """Stripe said no: the row is failed, its amount free again, the timeline says why."""
    # Lock: guarded UPDATE ... WHERE status = 'pending'; an event that settled it stays.
    refund = db.session.get(Refund, refund_id)
    lifecycle.lock(refund.order_id)
    changed = db.session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == RefundStatus.PENDING)
        .values(status=RefundStatus.FAILED, failure=message[:1000])
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        disputes.settle(refund.order_id)  # its amount is free again for a lost dispute
        metrics.on_commit(metrics.REFUNDS.labels(outcome=RefundStatus.FAILED))
        lifecycle.record(
            refund.order_id,
            "refund_failed",
            Origin(Source.ADMIN, actor_id=refund.actor_id),
            f"{format_money(refund.amount_cents, refund.currency)}: Stripe said: {message}",
        )
    db.session.commit()


def sync(made: payments.Refund, origin: Origin) -> None:
    """Write a refund as Stripe has it and bring its order's totals in line; commits.

    Found by Stripe's id, else by the shop's key in its metadata, else it is new (made in
    the Dashboard) and its order is found by the PaymentIntent. Unknown: a log line.
    """
    refund = _find(made)
    order_id = refund.order_id if refund is not None else _order_of(made.payment_intent_id)
    if order_id is None:
        log.info("refund %s: no order for PaymentIntent %s", made.id, made.payment_intent_id)
        db.session.rollback()
        return
    lifecycle.lock(order_id)  # events about one order apply one after another
    # Again, now that concurrent syncs of this order have committed, and read afresh: the
    # row loaded above (or earlier in this request) would otherwise keep its old status,
    # and a second sync would record the same change on the timeline and in the metrics.
    refund = _find(made, fresh=True)
    before = None if refund is None else refund.status
    if refund is None:
        refund = Refund(
            order_id=order_id,
            key=f"stripe-{made.id}",
            stripe_refund_id=made.id,
            amount_cents=made.amount,
            currency=made.currency,
            reason=made.reason,
            status=made.status,
            failure=made.failure_reason,
        )
        db.session.add(refund)
    elif REFUND_FINALITY.get(made.status, 0) >= REFUND_FINALITY.get(refund.status, 0):
        refund.stripe_refund_id = made.id
        refund.status = made.status
        refund.failure = made.failure_reason
    db.session.flush()
    if refund.status != before:
        _record_change(refund, before, origin)
    _settle_order(order_id, origin)
    db.session.commit()


def _find(made: payments.Refund, fresh: bool = False) -> Refund | None:
    """The shop's row for a Stripe refund: by Stripe's id, or by the shop's key; `fresh`
    overwrites what the session already holds of it with the database's row."""
    options = {"populate_existing": True} if fresh else {}
    found = db.session.scalar(
        select(Refund).where(Refund.stripe_refund_id == made.id).execution_options(**options)
    )
    if found is None and made.shop_key:
        found = db.session.scalar(
            select(Refund).where(Refund.key == made.shop_key).execution_options(**options)
        )
    return found


def _order_of(payment_intent_id: str | None) -> int | None:
    """The order paid by a PaymentIntent."""
    if payment_intent_id is None:
        return None
    return db.session.scalar(select(Order.id).where(Order.payment_intent_id == payment_intent_id))


def _record_change(refund: Refund, before: str | None, origin: Origin) -> None:
    """The timeline entry (and the customer's email) for a refund reaching a new status."""
    who = ELSEWHERE
    if refund.actor_id is not None:
        who = db.session.scalar(select(User.email).where(User.id == refund.actor_id)) or "an admin"
    amount = format_money(refund.amount_cents, refund.currency)
    reason = f", {refund.reason.replace('_', ' ')}" if refund.reason else ""
    if refund.status in (RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.CANCELED):
        metrics.on_commit(metrics.REFUNDS.labels(outcome=refund.status))
    if refund.status == RefundStatus.SUCCEEDED:
        metrics.on_commit(
            metrics.REFUNDED_CENTS.labels(currency=refund.currency), refund.amount_cents
        )
        lifecycle.record(refund.order_id, "refund", origin, f"{amount}{reason}, by {who}")
        order = db.session.get(Order, refund.order_id)
        notices.enqueue_refund_notice(
            order,
            refund_id=refund.stripe_refund_id or refund.key,
            amount_cents=refund.amount_cents,
            remaining_cents=order.total_cents - _succeeded(refund.order_id),
            reason=refund.reason,
        )
        if refund.return_to_stock:
            returned = stock.return_units(refund.order_id, refund.actor_id)
            if returned is not None:
                lifecycle.record(refund.order_id, "stock_returned", origin, returned.note)
    elif refund.status in (RefundStatus.FAILED, RefundStatus.CANCELED):
        why = f": {refund.failure}" if refund.failure else ""
        lifecycle.record(refund.order_id, "refund_failed", origin, f"{amount} {refund.status}{why}")


def _succeeded(order_id: int) -> int:
    """What Stripe has given back on an order: the refunds that succeeded."""
    return db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.order_id == order_id, Refund.status == RefundStatus.SUCCEEDED
        )
    )


def _settle_order(order_id: int, origin: Origin) -> None:
    """The order's refunded total and status, from the refunds that succeeded, and what a
    lost dispute took of the rest (a failed refund leaves it to the dispute)."""
    disputes.settle(order_id)
    lifecycle.settle_refunds(order_id, _succeeded(order_id), origin)


def on_refund(event: payments.RefundEvent) -> None:
    """`refund.created`, `refund.updated`, `refund.failed`: the refund as Stripe has it."""
    sync(event.refund, Origin.of_event(event))


def on_charge_refunded(event: payments.ChargeEvent) -> None:
    """`charge.refunded`: Stripe's running total. When it differs from the refunds the shop
    knows (an endpoint subscribed to this event alone), ask Stripe for them all."""
    charge = event.charge
    order_id = _order_of(charge.payment_intent_id)
    if order_id is None:
        log.info("charge %s refunded: no order for it", charge.id)
        return
    if _succeeded(order_id) == charge.amount_refunded:
        return
    db.session.rollback()  # this event id is recorded again with the refunds below
    for made in payments.refunds_of(charge.payment_intent_id):
        sync(made, Origin.of_event(event))


def register(app: Flask) -> None:
    """Subscribe this app to the events that carry refunds."""
    for event_type in ("refund.created", "refund.updated", "refund.failed"):
        payments.on(app, event_type, on_refund)
    payments.on(app, "charge.refunded", on_charge_refunded)
