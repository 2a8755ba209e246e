"""What a Checkout Session's outcome does to its order, whichever path reports it first:
the webhook, the customer's return to the success page, the customer's next checkout, or
`flask payments reconcile`.

Stripe may deliver the same event more than once, concurrently with the others; every
function here may run several times at once for one session and must have the effect of
running once: the paid mark and everything that goes with it land exactly once.
"""

import logging

from flask import Flask
from sqlalchemy import select

from .. import payments
from ..cart.services import take_bought
from ..extensions import db
from ..models import utcnow
from ..notifications import notices
from ..payments import CheckoutEvent, CheckoutSession
from . import lifecycle
from .lifecycle import Origin
from .models import Order, OrderStatus

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    """Subscribe this app to the Checkout events that settle orders."""
    payments.on(app, "checkout.session.completed", on_paid)
    payments.on(app, "checkout.session.async_payment_succeeded", on_paid)
    payments.on(app, "checkout.session.async_payment_failed", on_failed)
    payments.on(app, "checkout.session.expired", on_expired)


def order_for(session: CheckoutSession) -> Order | None:
    """The order a Checkout Session was made for: by session id, else by its metadata.

    The metadata path covers a session whose id we failed to record (a crash right after
    Stripe answered): it still carries the order id and the customer's id.
    """
    order = db.session.scalar(select(Order).where(Order.stripe_session_id == session.id))
    if order is not None or session.order_id is None:
        return order
    order = db.session.get(Order, session.order_id)
    if (
        order is None
        or order.stripe_session_id is not None
        or str(order.user_id) != session.customer_id
    ):
        return None
    return order


def fulfil(session: CheckoutSession, origin: Origin) -> Order | None:
    """Mark the session's order paid exactly once, take what was bought out of the cart and
    owe the customer a receipt."""
    order = order_for(session)
    if order is None:
        log.info("fulfilment: no order for session %s", session.id)
        return None
    if not session.is_paid:
        return order  # completed with a delayed payment method: wait for async_payment_*
    previous = order.status
    # Lock: move()'s guarded UPDATE: of webhook and success page, one moves it and edits the cart.
    moved = lifecycle.move(
        order.id,
        OrderStatus.PAID,
        origin,
        note="" if previous == OrderStatus.PENDING else f"paid after the shop marked it {previous}",
        paid_at=utcnow(),
        payment_intent_id=session.payment_intent_id,
        stripe_session_id=session.id,
    )
    if moved:
        take_bought(order.user_id, [(item.product_id, item.quantity) for item in order.items])
        notices.enqueue_receipt(order)  # sent by the worker once this commits, never before
        if previous != OrderStatus.PENDING:
            log.warning(
                "fulfilment: order %s was %s locally but its session %s is paid: marked paid",
                order.id,
                previous,
                session.id,
            )
    db.session.commit()  # the paid mark, its timeline entry, the cart change, the receipt
    db.session.refresh(order)
    return order


def settle_unpaid(session: CheckoutSession, target: OrderStatus, origin: Origin) -> None:
    """A delayed payment failed, or the session expired: a still-pending order says so."""
    order = order_for(session)
    if order is not None:
        # Lock: guarded UPDATE ... WHERE status = 'pending'; a payment recorded first stays.
        lifecycle.move(order.id, target, origin, only_from=[OrderStatus.PENDING])
        db.session.commit()


def on_paid(event: CheckoutEvent) -> None:
    """Paid at once (cards) or later (delayed methods) → fulfil; an unpaid completion waits."""
    fulfil(event.session, Origin.of_event(event))


def on_failed(event: CheckoutEvent) -> None:
    """A delayed payment failed → failed."""
    settle_unpaid(event.session, OrderStatus.FAILED, Origin.of_event(event))


def on_expired(event: CheckoutEvent) -> None:
    """The session expired unpaid → expired (only from pending)."""
    settle_unpaid(event.session, OrderStatus.EXPIRED, Origin.of_event(event))
