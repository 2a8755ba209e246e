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
    cart = load_cart(user.id)
    _check_cart(cart)
    snapshot = Snapshot.of(cart)
    deadline = time.monotonic() + WAIT_FOR_PEER_SECONDS
    while time.monotonic() < deadline:
        db.session.rollback()  # see what concurrent requests committed meanwhile
        pending = _pending_order(user.id)
        if pending is None:
            order = _claim_slot(user.id, snapshot)
            if order is None:
                continue  # another request claimed the slot first: resume its session
            return Started(order.id, _create_session(order, user, urls, ttl), resumed=False)
        if pending.stripe_session_id is None:
            if pending.created_at < utcnow() - STALE_AFTER:
                # Left by a crash between claiming and creating: free the slot.
                # Lock: move()'s guarded UPDATE; an order that got its session meanwhile stays.
                move(pending.id, OrderStatus.FAILED, where=[Order.stripe_session_id.is_(None)])
                db.session.commit()
            else:
                # A concurrent request is creating the session right now: wait without
                # holding a pooled connection, which that request (or the emulator) needs.
                db.session.rollback()
                time.sleep(0.05)
            continue
        url = _resume_or_retire(pending, snapshot.fingerprint)
        if url is not None:
            return Started(pending.id, url, resumed=True)
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


def _claim_slot(user_id: int, snapshot: Snapshot) -> Order | None:
    """Insert the pending order with its snapshot, or None if another request won the slot."""
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
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return order


def _create_session(order: Order, user: User, urls: CheckoutUrls, ttl: timedelta) -> str:
    """Create the Checkout Session for a freshly claimed order and record it."""
    expires_at = utcnow() + ttl
    params = {
        "mode": "payment",
        "client_reference_id": str(user.id),
        "metadata": {"order_id": str(order.id)},
        "customer_email": user.email,
        "line_items": [
            {
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": item.unit_price_cents,
                    "product_data": {"name": item.name},
                },
                "quantity": item.quantity,
            }
            for item in order.items
        ],
        "success_url": urls.success,
        "cancel_url": urls.cancel,
        "expires_at": int(expires_at.timestamp()),
    }
    try:
        session = gateway.create_checkout_session(params, idempotency_key=f"order-{order.id}")
    except gateway.PaymentsError as error:
        log.warning("checkout: creating the session for order %s failed: %s", order.id, error)
        move(order.id, OrderStatus.FAILED, only_from=[OrderStatus.PENDING])
        db.session.commit()
        raise CheckoutUnavailable(
            "Payment could not be started. Nothing was charged; please try again."
        ) from None
    recorded = db.session.execute(
        # Lock: guarded UPDATE; only a still-pending order without a session takes it.
        update(Order)
        .where(
            Order.id == order.id,
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
    same_cart = pending.cart_fingerprint == fingerprint
    if same_cart and pending.expires_at and pending.expires_at > utcnow() + RESUME_MARGIN:
        try:
            session = gateway.retrieve_checkout_session(pending.stripe_session_id)
        except gateway.PaymentsUnavailable:
            return pending.session_url  # cannot check now; Stripe's page shows its state
        except gateway.PaymentsRejected:
            session = None
        if session is not None and session["status"] == "open":
            return pending.session_url
        if session is not None and session["status"] == "complete":
            _reconcile_completed(pending, session)
        _retire(pending, OrderStatus.EXPIRED)
        return None
    try:
        gateway.expire_checkout_session(pending.stripe_session_id)
    except gateway.SessionNotFound:
        pass  # Stripe has no such session: nothing can be paid on it
    except gateway.PaymentsRejected:
        # No longer open: it expired, or the customer just paid it.
        try:
            session = gateway.retrieve_checkout_session(pending.stripe_session_id)
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
