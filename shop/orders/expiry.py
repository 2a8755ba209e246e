"""Pending orders past their session's expiry, when no webhook said so: settle them, so the
units they hold go back on sale within minutes, with real Stripe as with the emulator.

Two callers: the `worker` process (and `flask orders expire-overdue`, for a scheduler)
asks Stripe first, so a session paid at the last second is fulfilled as usual; a checkout
that finds too few units left settles overdue orders locally, without asking (a session
cannot be paid once Stripe has expired it; if a payment still shows up, fulfilment records
it as a late payment and flags the order).
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import payments
from ..extensions import db
from ..models import utcnow
from . import lifecycle, settlement
from .lifecycle import Origin
from .models import Order, OrderStatus, Source

log = logging.getLogger(__name__)

#: How long after `expires_at` the worker asks Stripe about a pending order.
ASK_AFTER = timedelta(minutes=1)
#: How long after `expires_at` an order is expired without asking Stripe.
LOCAL_AFTER = timedelta(minutes=5)
#: Most orders settled in one run (the next run takes the rest).
BATCH = 200
#: How long a pending order may stay without a Checkout Session: the request claiming it
#: died (a crash, a killed dyno) between claiming the slot and recording Stripe's answer.
STALE_CLAIM_AFTER = timedelta(minutes=2)


@dataclass
class Report:
    """What one run settled: order ids by outcome."""

    expired: list[int] = field(default_factory=list)
    paid: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    #: Pending orders left without a session by a request that died: failed, units released.
    failed: list[int] = field(default_factory=list)


def overdue(after: timedelta, now: datetime) -> list[tuple[int, str, datetime]]:
    """(order id, session id, expires_at) of pending orders more than `after` past expiry."""
    rows = db.session.execute(
        select(Order.id, Order.stripe_session_id, Order.expires_at)
        .where(
            Order.status == OrderStatus.PENDING,
            Order.stripe_session_id.is_not(None),
            Order.expires_at < now - after,
        )
        .order_by(Order.expires_at)
        .limit(BATCH)
    )
    return [tuple(row) for row in rows]


def settle_overdue(ask_stripe: bool = True, now: datetime | None = None) -> Report:
    """Settle overdue pending orders: paid if Stripe says so, else expired (units released)."""
    now = now or utcnow()
    report = Report()
    due = overdue(ASK_AFTER if ask_stripe else LOCAL_AFTER, now)
    db.session.rollback()  # hold no pooled connection while Stripe answers
    for order_id, session_id, expires_at in due:
        if ask_stripe:
            try:
                session = payments.close_session(session_id)
            except payments.SessionNotFound:
                session = None
            except payments.PaymentsError as error:
                if expires_at > now - LOCAL_AFTER:
                    log.warning("expiry: cannot ask Stripe about %s yet: %s", session_id, error)
                    report.skipped.append(order_id)
                    continue
                session = None  # long past expiry: Stripe cannot take its payment any more
            if session is not None and session.status == "complete":
                order = settlement.fulfil(session, Origin(Source.SYSTEM, session_id))
                if order is not None and order.status == OrderStatus.PAID:
                    report.paid.append(order_id)
                    continue
        # Lock: move()'s guarded UPDATE ... WHERE status = 'pending'; a payment meanwhile wins.
        if lifecycle.move(
            order_id,
            OrderStatus.EXPIRED,
            Origin(Source.SYSTEM, session_id),
            only_from=[OrderStatus.PENDING],
            note="its session expired with no word from Stripe",
        ):
            report.expired.append(order_id)
        db.session.commit()
    report.failed = free_stale_claims(now)
    return report


def free_stale_claims(now: datetime) -> list[int]:
    """Fail pending orders that never got a Checkout Session, releasing the units they hold.

    Their customer's next checkout would free the slot too, but a customer who does not come
    back would leave the units held for good. A session Stripe made for such an order was
    never shown to anyone; if it is paid all the same, fulfilment finds the order by its
    metadata and records a late payment.
    """
    stale = db.session.scalars(
        select(Order.id)
        .where(
            Order.status == OrderStatus.PENDING,
            Order.stripe_session_id.is_(None),
            Order.created_at < now - STALE_CLAIM_AFTER,
        )
        .limit(BATCH)
    ).all()
    failed = []
    for order_id in stale:
        if fail_stale_claim(order_id):
            failed.append(order_id)
        db.session.commit()
    return failed


def fail_stale_claim(order_id: int) -> bool:
    """Fail one pending order that never got its session (its checkout stopped before
    Stripe answered), releasing its units; True if this call did. The caller commits.
    Used here by the worker and by a checkout that finds its customer's slot so held."""
    # Lock: move()'s guarded UPDATE; an order that got its session meanwhile stays.
    return lifecycle.move(
        order_id,
        OrderStatus.FAILED,
        Origin(Source.SYSTEM),
        only_from=[OrderStatus.PENDING],
        where=[Order.stripe_session_id.is_(None)],
        note="the checkout stopped before Stripe answered",
    )


def worker_duty() -> None:
    """The worker's regular run (`orders.notices.register`): settle, and log what changed."""
    report = settle_overdue()
    if report.expired or report.paid or report.failed:
        counts = {"expired": len(report.expired), "paid": len(report.paid)}
        log.info(
            "worker: settled overdue orders",
            extra={"fields": {**counts, "failed": len(report.failed)}},
        )
