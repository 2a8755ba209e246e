"""What a Checkout Session's outcome does to its order, whichever path reports it first:
the webhook, the customer's return to the success page, the customer's next checkout, or
`flask payments reconcile`.

Stripe may deliver the same event more than once, concurrently with the others; every
function here may run several times at once for one session and must have the effect of
running once: the paid mark and everything that goes with it land exactly once.
"""

import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from flask import Flask
from sqlalchemy import select

from .. import payments
from ..cart.services import take_bought
from ..extensions import db
from ..models import utcnow
from ..payments import CheckoutEvent, CheckoutSession
from . import lifecycle, notices
from .lifecycle import Origin
from .models import SHIPPING_RATE_MAX, Order, OrderStatus

log = logging.getLogger(__name__)

#: The shop's code for a Stripe promotion code id; handed in by the promotions area
#: (`name_codes_with`), which is built on this one.
_code_named: Callable[[str], str | None] = lambda _id: None  # noqa: E731


def name_codes_with(namer: Callable[[str], str | None]) -> None:
    """How settlement names a code that was typed on Stripe's own page."""
    global _code_named
    _code_named = namer


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
        **charged(order, session),
    )
    if moved:
        db.session.refresh(order)  # the receipt shows what was just recorded: total, address
        if order.from_cart:  # a Buy now was never in the cart: the cart stays as it is
            bought = [(item.product_id, item.quantity) for item in order.items]
            take_bought(order.user_id, bought, order.promotion_code)
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


def charged(order: Order, session: CheckoutSession) -> dict[str, Any]:
    """What the order keeps of what Stripe charged: the subtotal, the discount and the code
    that made it, the tax, the total (the goods and shipping), the address collected, and
    the rate picked with its price. Stripe's figures, never the shop's own arithmetic."""
    values: dict[str, Any] = {}
    if session.amount_total is not None:
        values["total_cents"] = session.amount_total
    if session.amount_subtotal is not None:
        values["subtotal_cents"] = session.amount_subtotal
        values["discount_cents"] = min(session.amount_discount, session.amount_subtotal)
        values["tax_cents"] = session.amount_tax
    if session.promotion_code_id is not None:
        values["promotion_code_id"] = session.promotion_code_id
        if session.promotion_code_id != order.promotion_code_id:  # typed on Stripe's page
            values["promotion_code"] = (_code_named(session.promotion_code_id) or "")[:20] or None
    elif session.amount_subtotal is not None:
        values["promotion_code"] = values["promotion_code_id"] = None
    shipped = session.shipping_amount or 0
    if session.amount_total is not None and 0 < shipped <= session.amount_total:
        values["shipping_cents"] = shipped
    if session.shipping_address is not None:
        values["shipping_address"] = asdict(session.shipping_address)
    if session.shipping_rate_id is not None:
        offers = order.shipping_offers or {}
        values["shipping_rate"] = offers.get(session.shipping_rate_id, session.shipping_rate_id)[
            :SHIPPING_RATE_MAX
        ]
    return values


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
