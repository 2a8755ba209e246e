"""Starting or resuming a customer's one Checkout Session.

The rules (DESIGN.md "Orders and payments"): a pending order whose session is open and
whose cart is unchanged is resumed; otherwise it is expired at Stripe and replaced; a new
order claims the user's single pending slot *before* Stripe is called, so the partial
unique index decides races between workers, and the idempotency key derived from the
order id makes a retried create return the same session.
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..cart.services import Cart, load_cart
from ..extensions import db
from ..models import Order, OrderItem, OrderStatus, User, utcnow
from ..orders.transitions import move
from ..payments import gateway
from . import fulfilment

log = logging.getLogger(__name__)

#: A session this close to expiring is replaced rather than resumed.
RESUME_MARGIN = timedelta(minutes=2)
#: A pending order still without a session after this long was left by a crash.
STALE_AFTER = timedelta(minutes=2)
#: How long a request waits for a concurrent request that is creating the session.
WAIT_FOR_PEER_SECONDS = 15.0
#: The first and longest pause between two looks at a session being created by a peer.
FIRST_PAUSE, MAX_PAUSE = 0.02, 0.25


@dataclass(frozen=True)
class CheckoutUrls:
    """Where Stripe sends the customer back; `success` contains {CHECKOUT_SESSION_ID}."""

    success: str
    cancel: str


@dataclass(frozen=True)
class Snapshot:
    """What is being bought, copied out of the cart before any transaction ends."""

    currency: str
    total_cents: int
    fingerprint: str
    items: tuple[tuple[int, str, int, int], ...]  # product id, name, unit price, quantity

    @classmethod
    def of(cls, cart: Cart) -> "Snapshot":
        """Freeze `cart` (its products' names and current prices) for the order."""
        return cls(
            currency=cart.currency,
            total_cents=cart.subtotal_cents,
            fingerprint=cart_fingerprint(cart),
            items=tuple(
                (line.product.id, line.product.name, line.product.price_cents, line.quantity)
                for line in cart.lines
            ),
        )


@dataclass(frozen=True)
class Started:
    """The Checkout Session to send the customer to."""

    order_id: int
    url: str
    resumed: bool


class CheckoutRefused(Exception):
    """The cart cannot be checked out as it is; nothing was created."""


class CheckoutUnavailable(Exception):
    """Stripe could not be reached or refused; nothing was charged, the slot is free."""


class AlreadyPaid(Exception):
    """The pending checkout turned out to be paid already; no new charge was started."""

    def __init__(self, order_id: int):
        super().__init__(order_id)
        self.order_id = order_id


def cart_fingerprint(cart: Cart) -> str:
    """A digest of what would be bought (products, quantities, current prices)."""
    parts = sorted(
        f"{line.product.id}:{line.quantity}:{line.product.price_cents}:{line.product.currency}"
        for line in cart.lines
    )
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def start_checkout(user: User, urls: CheckoutUrls, ttl: timedelta) -> Started:
    """Resume the user's open Checkout Session or replace it with a new one for the cart."""
    # Plain values from here on: a rollback expires ORM objects, and reloading `user` would
    # take a pooled connection on every pass of the loop below.
    user_id, email = user.id, user.email
    cart = load_cart(user_id)
    _check_cart(cart)
    snapshot = Snapshot.of(cart)
    deadline = time.monotonic() + WAIT_FOR_PEER_SECONDS
    pause = FIRST_PAUSE
    while time.monotonic() < deadline:
        db.session.rollback()  # see what concurrent requests committed meanwhile
        pending = _pending_order(user_id)
        if pending is None:
            order_id = _claim_slot(user_id, snapshot)
            if order_id is None:
                continue  # another request claimed the slot first: resume its session
            url = _create_session(order_id, user_id, email, snapshot, urls, ttl)
            return Started(order_id, url, resumed=False)
        if pending.stripe_session_id is None:
            if pending.created_at < utcnow() - STALE_AFTER:
                # Left by a crash between claiming and creating: free the slot.
                # Lock: move()'s guarded UPDATE; an order that got its session meanwhile stays.
                move(pending.id, OrderStatus.FAILED, where=[Order.stripe_session_id.is_(None)])
                db.session.commit()
            else:
                # A concurrent request is creating the session right now: wait holding no
                # pooled connection (the rollback returns it), backing off, so the request
                # that creates the session never queues behind the ones waiting for it.
                db.session.rollback()
                time.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE)
            continue
        pending_id = pending.id
        url = _resume_or_retire(pending, snapshot.fingerprint)
        if url is not None:
            return Started(pending_id, url, resumed=True)
    raise CheckoutUnavailable("Your checkout is still being prepared; please try again.")


def _check_cart(cart: Cart) -> None:
    """Refuse an empty cart, unavailable products and mixed currencies."""
    if cart.is_empty:
        raise CheckoutRefused("Your cart is empty; add something first.")
    if cart.has_unavailable:
        raise CheckoutRefused("Some items are no longer available; remove them to check out.")
    if len({line.product.currency for line in cart.lines}) > 1:
        raise CheckoutRefused("Items priced in different currencies must be bought separately.")


def _pending_order(user_id: int) -> Order | None:
    """The user's pending order, if any (there is at most one)."""
    # Lock: none; a plain read, re-read after each rollback; every write it leads to is guarded.
    return db.session.scalar(
        select(Order).where(Order.user_id == user_id, Order.status == OrderStatus.PENDING)
    )


def _claim_slot(user_id: int, snapshot: Snapshot) -> int | None:
    """Insert the pending order with its snapshot: its id, or None if another request won."""
    order = Order(
        user_id=user_id,
        status=OrderStatus.PENDING,
        currency=snapshot.currency,
        total_cents=snapshot.total_cents,
        cart_fingerprint=snapshot.fingerprint,
        items=[
            OrderItem(product_id=pid, name=name, unit_price_cents=price, quantity=quantity)
            for pid, name, price, quantity in snapshot.items
        ],
    )
    db.session.add(order)
    try:
        # Lock: unique index uq_orders_one_pending_per_user; a racing insert fails, resumes.
        db.session.flush()
        order_id = order.id
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return order_id


def _create_session(
    order_id: int, user_id: int, email: str, snapshot: Snapshot, urls: CheckoutUrls, ttl: timedelta
) -> str:
    """Create the Checkout Session for a freshly claimed order and record it.

    Everything Stripe needs comes from the snapshot, so no connection is held while it answers.
    """
    expires_at = utcnow() + ttl
    params = {
        "mode": "payment",
        "client_reference_id": str(user_id),
        "metadata": {"order_id": str(order_id)},
        "customer_email": email,
        "line_items": [
            {
                "price_data": {
                    "currency": snapshot.currency,
                    "unit_amount": price,
                    "product_data": {"name": name},
                },
                "quantity": quantity,
            }
            for _, name, price, quantity in snapshot.items
        ],
        "success_url": urls.success,
        "cancel_url": urls.cancel,
        "expires_at": int(expires_at.timestamp()),
    }
    try:
        session = gateway.create_checkout_session(params, idempotency_key=f"order-{order_id}")
    except gateway.PaymentsError as error:
        log.warning("checkout: creating the session for order %s failed: %s", order_id, error)
        move(order_id, OrderStatus.FAILED, only_from=[OrderStatus.PENDING])
        db.session.commit()
        raise CheckoutUnavailable(
            "Payment could not be started. Nothing was charged; please try again."
        ) from None
    recorded = db.session.execute(
        # Lock: guarded UPDATE; only a still-pending order without a session takes it.
        update(Order)
        .where(
            Order.id == order_id,
            Order.status == OrderStatus.PENDING,
            Order.stripe_session_id.is_(None),
        )
        .values(
            stripe_session_id=session["id"],
            session_url=session["url"],
            expires_at=datetime.fromtimestamp(session["expires_at"], expires_at.tzinfo),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if recorded != 1:
        # The order was given up as stale meanwhile: close the session so it cannot be paid
        # unnoticed (if it was paid already, fulfilment still finds the order by metadata).
        _expire_quietly(session["id"])
        raise CheckoutUnavailable("Payment could not be started. Nothing was charged; try again.")
    return session["url"]


def _resume_or_retire(pending: Order, fingerprint: str) -> str | None:
    """The pending order's url if it can be resumed; otherwise retire it and return None."""
    session_id, session_url = pending.stripe_session_id, pending.session_url
    same_cart = pending.cart_fingerprint == fingerprint
    resumable = same_cart and pending.expires_at and pending.expires_at > utcnow() + RESUME_MARGIN
    db.session.rollback()  # hold no pooled connection while Stripe answers
    if resumable:
        try:
            session = gateway.retrieve_checkout_session(session_id)
        except gateway.PaymentsUnavailable:
            return session_url  # cannot check now; Stripe's page shows its state
        except gateway.PaymentsRejected:
            session = None
        if session is not None and session["status"] == "open":
            return session_url
        if session is not None and session["status"] == "complete":
            _reconcile_completed(pending, session)
        _retire(pending, OrderStatus.EXPIRED)
        return None
    try:
        gateway.expire_checkout_session(session_id)
    except gateway.SessionNotFound:
        pass  # Stripe has no such session: nothing can be paid on it
    except gateway.PaymentsRejected:
        # No longer open: it expired, or the customer just paid it.
        try:
            session = gateway.retrieve_checkout_session(session_id)
        except gateway.PaymentsError:
            raise CheckoutUnavailable("Payment could not be started; please try again.") from None
        if session["status"] == "complete":
            _reconcile_completed(pending, session)
        _retire(pending, OrderStatus.EXPIRED)
        return None
    except gateway.PaymentsUnavailable:
        raise CheckoutUnavailable("Payment could not be started; please try again.") from None
    _retire(pending, OrderStatus.EXPIRED if same_cart else OrderStatus.CANCELLED)
    return None


def _reconcile_completed(pending: Order, session: dict) -> None:
    """A session we meant to replace was completed: fulfil it instead of charging again."""
    order = fulfilment.fulfil(session)
    if order is not None and order.status == OrderStatus.PAID:
        raise AlreadyPaid(order.id)
    # Completed but not yet paid (a delayed payment method): keep waiting for Stripe.
    raise CheckoutRefused("Your last payment is still being processed; see My Orders.")


def _retire(order: Order, status: OrderStatus) -> None:
    """Mark a replaced pending order expired or cancelled (a no-op if it moved meanwhile)."""
    # Lock: move()'s UPDATE ... WHERE status = 'pending'; a payment recorded meanwhile wins.
    move(order.id, status, only_from=[OrderStatus.PENDING])
    db.session.commit()


def _expire_quietly(session_id: str) -> None:
    """Best-effort expiry of a session nobody will use."""
    try:
        gateway.expire_checkout_session(session_id)
    except gateway.PaymentsError as error:
        log.warning("checkout: could not expire orphan session %s: %s", session_id, error)
