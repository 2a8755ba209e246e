"""Fulfilment: one idempotent function for the webhook and the success page.

Stripe may deliver the same event more than once, and concurrently with the customer's
return to the success page; every path below may therefore run several times at once for
one session and must have the effect of running once.
"""

import logging

from sqlalchemy import delete, select, update

from ..extensions import db
from ..models import CartItem, Order, OrderStatus, utcnow
from ..orders.transitions import move
from ..payments import webhooks

log = logging.getLogger(__name__)

#: Order ids are 32-bit integers in the database.
MAX_ORDER_ID = 2**31 - 1
#: Checkout's payment_status values meaning the money is taken.
PAID = {"paid", "no_payment_required"}


def order_for_session(session: dict) -> Order | None:
    """The order a Checkout Session was made for: by session id, else by its metadata.

    The metadata path covers a session whose id we failed to record (a crash right after
    Stripe answered): it still carries `metadata.order_id` and the user's id.
    """
    order = db.session.scalar(select(Order).where(Order.stripe_session_id == session["id"]))
    if order is not None:
        return order
    order_id = str((session.get("metadata") or {}).get("order_id", ""))
    if not (order_id.isascii() and order_id.isdigit()) or int(order_id) > MAX_ORDER_ID:
        return None  # no such order (and a query with it would overflow PostgreSQL's integer)
    order = db.session.get(Order, int(order_id))
    if (
        order is None
        or order.stripe_session_id is not None
        or str(order.user_id) != str(session.get("client_reference_id"))
    ):
        return None
    return order


def fulfil(session: dict) -> Order | None:
    """Mark the session's order paid exactly once and take what was bought out of the cart."""
    order = order_for_session(session)
    if order is None:
        log.info("fulfilment: no order for session %s", session.get("id"))
        return None
    if session.get("payment_status") not in PAID:
        return order  # completed with a delayed payment method: wait for async_payment_*
    previous = order.status
    intent = session.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    # Lock: move()'s guarded UPDATE: of webhook and success page, one moves it and edits the cart.
    moved = move(
        order.id,
        OrderStatus.PAID,
        paid_at=utcnow(),
        payment_intent_id=intent,
        stripe_session_id=session["id"],
    )
    if moved:
        _take_from_cart(order)
        if previous != OrderStatus.PENDING:
            log.warning(
                "fulfilment: order %s was %s locally but its session %s is paid: marked paid",
                order.id,
                previous,
                session["id"],
            )
    db.session.commit()  # the paid mark and the cart change land together or not at all
    db.session.refresh(order)
    return order


def _take_from_cart(order: Order) -> None:
    """Remove the bought quantities; lines added or raised since checkout keep the rest."""
    # Lock: row locks; PostgreSQL re-checks each WHERE on the row an add just committed.
    # Lines are taken in product order, the same for every fulfilment, so two fulfilments
    # of one user's orders cannot lock the same lines in opposite orders (a deadlock).
    for item in sorted(order.items, key=lambda item: item.product_id):
        line = (CartItem.user_id == order.user_id, CartItem.product_id == item.product_id)
        db.session.execute(delete(CartItem).where(*line, CartItem.quantity <= item.quantity))
        db.session.execute(
            update(CartItem)
            .where(*line, CartItem.quantity > item.quantity)
            .values(quantity=CartItem.quantity - item.quantity)
        )


def settle_failed(session: dict) -> None:
    """A delayed payment failed: the pending order becomes failed."""
    order = order_for_session(session)
    if order is not None:
        # Lock: guarded UPDATE ... WHERE status = 'pending'; a payment recorded first stays.
        move(order.id, OrderStatus.FAILED, only_from=[OrderStatus.PENDING])
        db.session.commit()


def settle_expired(session: dict) -> None:
    """Stripe expired the session: its order, if still pending, becomes expired."""
    order = order_for_session(session)
    if order is not None:
        # Lock: guarded UPDATE ... WHERE status = 'pending'; a payment recorded first stays.
        move(order.id, OrderStatus.EXPIRED, only_from=[OrderStatus.PENDING])
        db.session.commit()


def session_of(event: dict) -> dict:
    """The Checkout Session a verified event carries; MalformedEvent if it is not one.

    Stripe sends nothing else, but a 500 here would have it retry the same body for days,
    and a wrong type reaching a query is a database error rather than "no such order".
    """
    session = event["data"]["object"]
    intent = session.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if not (
        session.get("object") == "checkout.session"
        and webhooks.is_stripe_id(session.get("id"))
        and isinstance(session.get("metadata") or {}, dict)
        and isinstance(session.get("client_reference_id") or "", str | int)
        and isinstance(session.get("payment_status") or "", str)
        and (intent is None or webhooks.is_stripe_id(intent))
    ):
        raise webhooks.MalformedEvent(f"{event['type']} without a Checkout Session")
    return session


@webhooks.handler("checkout.session.completed")
def on_completed(event: dict) -> None:
    """Paid at once (cards) → fulfil; a delayed method leaves the order pending."""
    fulfil(session_of(event))


@webhooks.handler("checkout.session.async_payment_succeeded")
def on_async_succeeded(event: dict) -> None:
    """A delayed payment arrived → fulfil."""
    fulfil(session_of(event))


@webhooks.handler("checkout.session.async_payment_failed")
def on_async_failed(event: dict) -> None:
    """A delayed payment failed → failed."""
    settle_failed(session_of(event))


@webhooks.handler("checkout.session.expired")
def on_expired(event: dict) -> None:
    """The session expired unpaid → expired (only from pending)."""
    settle_expired(session_of(event))
