"""Starting or resuming a customer's one Checkout Session.

The rules (docs/architecture.md, "Checkout"): a pending order whose session is open and
whose cart is unchanged is resumed; otherwise its session is closed at Stripe and the order
replaced; a new order claims the customer's single pending slot *before* Stripe is called,
so the partial unique index decides races between workers, and the order's random checkout
key makes a retried create return the same session.

No database connection is held while Stripe answers, or while waiting for a concurrent
request that is creating the session (it would be one that request needs).
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from .. import payments, shipping
from ..auth.models import GONE_CUSTOMER, User, live_customer
from ..cart.services import Cart, load_cart
from ..catalog.services import find_product
from ..extensions import db
from ..models import utcnow
from ..orders import expiry, lifecycle, settlement, stock
from ..orders.lifecycle import Origin
from ..orders.models import PAID_STATES, Order, OrderItem, OrderStatus, Source
from ..promotions import services as promotions
from ..urls import external_url

log = logging.getLogger(__name__)

#: A session this close to expiring is replaced rather than resumed.
RESUME_MARGIN = timedelta(minutes=2)
#: A pending order still without a session after this long was left by a crash.
STALE_AFTER = expiry.STALE_CLAIM_AFTER
#: How long a request waits for a concurrent request that is creating the session.
WAIT_FOR_PEER_SECONDS = 15.0
#: The first and longest pause between two looks at a session being created by a peer.
FIRST_PAUSE, MAX_PAUSE = 0.02, 0.25
#: A claim still without a session after this long may be taken over: its request died (a
#: crash, a killed dyno) or is stuck; the order's own key makes Stripe answer both alike.
TAKEOVER_AFTER = timedelta(seconds=5)
#: A session's expiry is set when the slot is claimed, this much beyond the configured
#: lifetime, so that a take-over within it still meets Stripe's minimum (30 minutes) with
#: exactly the same parameters as the first request.
CLAIM_MARGIN = timedelta(minutes=1)
#: Stripe refuses a session that expires sooner than this after its creation.
STRIPE_MIN_LIFETIME = timedelta(minutes=30)
#: How the customer's own checkout appears on an order's timeline.
BY_CUSTOMER = Origin(Source.CHECKOUT)


@dataclass(frozen=True)
class CheckoutUrls:
    """Where Stripe sends the customer back; `success` contains {CHECKOUT_SESSION_ID}."""

    success: str
    cancel: str


@dataclass(frozen=True)
class Item:
    """A line being bought: the product, its name and price as they are now, how many."""

    product_id: int
    name: str
    unit_price_cents: int
    quantity: int


@dataclass(frozen=True)
class Snapshot:
    """What is being bought, copied out of the cart (or the product bought now) before any
    transaction ends."""

    currency: str
    total_cents: int
    fingerprint: str
    items: tuple[Item, ...]
    #: False for a Buy now: paying for it takes nothing out of the cart.
    from_cart: bool = True
    #: The code from the cart and Stripe's id for it (None: one may be typed at Stripe).
    promotion: tuple[str, str] | None = None
    #: The language the customer reads: the names bought and Stripe's page are in it.
    language: str = "en"

    @classmethod
    def of(
        cls, cart: Cart, promotion: tuple[str, str] | None = None, language: str = "en"
    ) -> "Snapshot":
        """Freeze `cart` (its products' names and current prices) and its code for the
        order; another code (or none) makes another fingerprint, so a new session."""
        fingerprint = cart_fingerprint(cart)
        if promotion is not None:
            fingerprint = hashlib.sha256(f"{fingerprint}|code:{promotion[0]}".encode()).hexdigest()
        return cls(
            currency=cart.currency,
            total_cents=cart.subtotal_cents,
            fingerprint=fingerprint,
            items=tuple(
                Item(line.product.id, line.product.name, line.product.price_cents, line.quantity)
                for line in cart.lines
            ),
            promotion=promotion,
            language=language,
        )

    @classmethod
    def buy_now(cls, item: Item, currency: str, language: str = "en") -> "Snapshot":
        """One product bought on its own; its fingerprint never equals a cart's, so a cart
        checkout replaces it and it replaces a cart checkout, while a repeat resumes it."""
        what = f"buy:{item.product_id}:{item.quantity}:{item.unit_price_cents}:{currency}"
        return cls(
            currency=currency,
            total_cents=item.unit_price_cents * item.quantity,
            fingerprint=hashlib.sha256(what.encode()).hexdigest(),
            items=(item,),
            from_cart=False,
            language=language,
        )

    def shortage(self, short: stock.Shortage) -> str:
        """What the customer is told when the units are gone."""
        if self.from_cart:
            return str(short)
        if short.available <= 0:
            return _("%(name)s is sold out.", name=short.name)
        return _("Only %(num)d of %(name)s left; buy at most %(num)d.", num=short.available,
                 name=short.name)  # fmt: skip


@dataclass(frozen=True)
class GoPay:
    """Send the customer to this Checkout Session."""

    order_id: int
    url: str
    resumed: bool


@dataclass(frozen=True)
class AlreadyPaid:
    """The pending checkout turned out to be paid already; no new charge was started."""

    order_id: int


Outcome = GoPay | AlreadyPaid


class CheckoutRefused(Exception):
    """The cart cannot be checked out as it is; nothing was created."""


class NoSuchProduct(CheckoutRefused):
    """Buy now of a product that does not exist or is not sold (any more)."""


class CheckoutUnavailable(Exception):
    """Stripe could not be reached or refused; nothing was charged, the slot is free."""


def return_urls() -> CheckoutUrls:
    """Where Stripe sends the customer back, on PUBLIC_URL (the pages and the JSON API
    alike); Stripe fills in {CHECKOUT_SESSION_ID} (braces unescaped)."""
    success = external_url("checkout.success") + "?session_id={CHECKOUT_SESSION_ID}"
    return CheckoutUrls(success=success, cancel=external_url("checkout.cancel"))


def cart_fingerprint(cart: Cart) -> str:
    """A digest of what would be bought (products, quantities, current prices)."""
    parts = sorted(
        f"{line.product.id}:{line.quantity}:{line.product.price_cents}:{line.product.currency}"
        for line in cart.lines
    )
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def start_checkout(
    user: User, urls: CheckoutUrls, ttl: timedelta, currency: str, language: str = "en"
) -> Outcome:
    """Resume the customer's open Checkout Session, or replace it with one for the cart
    (priced in `currency`, the customer's; named, and Stripe's page, in `language`)."""
    started = utcnow()
    cart = load_cart(user.id, currency, language)
    _check_cart(cart)
    try:
        promotion = promotions.for_checkout(user.id, cart.code, currency, cart.subtotal_cents)
    except promotions.CodeRefused as refused:
        raise CheckoutRefused(str(refused)) from None
    return _checkout(user, Snapshot.of(cart, promotion, language), urls, ttl, started)


def buy_now(
    user: User,
    sku: str,
    quantity: int,
    currency: str,
    urls: CheckoutUrls,
    ttl: timedelta,
    language: str = "en",
) -> Outcome:
    """A Checkout Session for `quantity` of one product alone, priced in `currency`; the
    cart is left as it is. The same one-pending rule as a cart checkout: it replaces an open
    session of another checkout, and a repeat of the same buy resumes it."""
    started = utcnow()
    product = find_product(sku)
    if product is None:
        raise NoSuchProduct(_("That product does not exist."))
    price = product.price_in(currency)
    if price is None:
        raise CheckoutRefused(_("%(name)s is not sold in %(currency)s.", name=product.name,
                                currency=currency.upper()))  # fmt: skip
    item = Item(product.id, product.name_in(language), price, quantity)
    db.session.rollback()  # the product was read; hold no connection from here on
    return _checkout(user, Snapshot.buy_now(item, currency, language), urls, ttl, started)


def _checkout(
    user: User, snapshot: Snapshot, urls: CheckoutUrls, ttl: timedelta, started: datetime
) -> Outcome:
    """The one-pending loop for `snapshot`, begun at `started` (see the module's rules)."""
    # Plain values from here on: a rollback expires ORM objects, and reloading `user` would
    # take a pooled connection on every pass of the loop below.
    user_id, email = user.id, user.email
    stored = db.session.scalar(select(User.stripe_customer_id).where(User.id == user_id))
    customer_id = live_customer(stored)
    db.session.rollback()  # hold no connection while Stripe may be asked for the tax rate
    try:
        payments.tax_rate_id()  # made at Stripe on the first checkout, read from then on
        customer_id = customer_id or _stripe_customer(user_id, email, stored)
    except payments.PaymentsError:
        raise CheckoutUnavailable(_("Payment could not be started; please try again.")) from None
    deadline = time.monotonic() + WAIT_FOR_PEER_SECONDS
    pause = FIRST_PAUSE
    swept = False
    while time.monotonic() < deadline:
        db.session.rollback()  # see what concurrent requests committed meanwhile
        pending = _pending_order(user_id)
        step = decide(pending, utcnow())
        if step is Step.CLAIM:
            try:
                claimed = _claim_slot(user_id, snapshot, utcnow() + ttl + CLAIM_MARGIN)
            except stock.Shortage as shortage:
                # Units held by sessions long past their expiry are freed on the spot
                # (no webhook came, no worker ran yet), then the claim is tried once more.
                freed = expiry.settle_overdue(ask_stripe=False)
                if swept or not (freed.expired or freed.failed):
                    raise CheckoutRefused(snapshot.shortage(shortage)) from None
                swept = True
                continue
            if claimed is None:
                continue  # another request claimed the slot first: resume its session
            order_id, key, expires_at = claimed
            code_id = snapshot.promotion[1] if snapshot.promotion else None
            request = _request(order_id, user_id, email, snapshot.currency, snapshot.items,
                               urls, expires_at, code_id, customer_id,
                               snapshot.language)  # fmt: skip
            try:
                return _open_session(request, key)
            except _PeerAtStripe:
                continue  # a peer took this claim over and is asking Stripe: resume it
        elif step is Step.RESUME:
            if pending.cart_fingerprint != snapshot.fingerprint and pending.created_at >= started:
                # Another checkout of this customer claimed the slot while this one ran (a
                # Buy now racing the cart's Checkout, two tabs): the first one wins, this
                # one is told rather than silently closing the session just handed out.
                raise CheckoutRefused(
                    _(
                        "Another checkout of yours started at the same moment and is open now. "
                        "Try again to replace it with this one."
                    )
                )
            outcome = _resume_or_close(pending, snapshot.fingerprint)
            if outcome is not None:
                return outcome
        elif step is Step.FREE_STALE:
            _free_stale_slot(pending.id)
        elif step is Step.TAKE_OVER and _take_over(pending, email, urls):
            continue  # the claim's session is recorded: the next pass resumes it
        else:
            # A concurrent request is creating the session right now (or taking it over):
            # wait holding no pooled connection (the rollback returns it), backing off, so
            # the request that creates the session never queues behind those waiting.
            db.session.rollback()
            time.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE)
    raise CheckoutUnavailable(_("Your checkout is still being prepared; please try again."))


class Step(StrEnum):
    """What `start_checkout` does next with the customer's one pending slot."""

    CLAIM = "claim"  # no pending order: claim the slot and open a session
    RESUME = "resume"  # its session exists: resume it, or close it for a changed cart
    FREE_STALE = "free_stale"  # a claim left without a session by a crash: fail it
    TAKE_OVER = "take_over"  # a claim silent too long: ask Stripe with its own key
    WAIT = "wait"  # a peer is creating the session right now


class Slot(Protocol):
    """What `decide` reads of a pending order."""

    stripe_session_id: str | None
    created_at: datetime
    expires_at: datetime | None


def decide(pending: Slot | None, now: datetime) -> Step:
    """The next step from the pending order (None: there is none) and the time. Pure: no
    database, no Stripe, no clock of its own (tests/test_checkout_decide.py is its table)."""
    if pending is None:
        return Step.CLAIM
    if pending.stripe_session_id is not None:
        return Step.RESUME
    age = now - pending.created_at
    if age >= STALE_AFTER:
        return Step.FREE_STALE
    # A claim's own request can still be sent only while its expiry, fixed at the claim,
    # leaves Stripe's minimum lifetime from now.
    sendable = pending.expires_at is not None and pending.expires_at >= now + STRIPE_MIN_LIFETIME
    if age >= TAKEOVER_AFTER and sendable:
        return Step.TAKE_OVER
    return Step.WAIT


def _stripe_customer(user_id: int, email: str, stored: str | None = None) -> str:
    """The account's Stripe Customer, made on its first checkout and kept on the account
    (or made again in place of one Stripe no longer has: `stored` is its `gone:` mark).

    Lock: Stripe's idempotency key (one per account, and per Customer replaced) makes
    parallel first checkouts get one Customer; the guarded UPDATE ... WHERE the stored value
    is still what this request read stores it once.
    """
    made = payments.make_customer(user_id, email, replacing=stored)
    unchanged = User.stripe_customer_id.is_(None) if stored is None else (
        User.stripe_customer_id == stored
    )  # fmt: skip
    db.session.execute(
        update(User)
        .where(User.id == user_id, unchanged)
        .values(stripe_customer_id=made)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    now = db.session.scalar(select(User.stripe_customer_id).where(User.id == user_id))
    return live_customer(now) or made


def _check_cart(cart: Cart) -> None:
    """Refuse an empty cart and unavailable products (a cart has one currency)."""
    if cart.is_empty:
        raise CheckoutRefused(_("Your cart is empty; add something first."))
    if cart.has_unavailable:
        raise CheckoutRefused(_("Some items are no longer available; remove them to check out."))


def _pending_order(user_id: int) -> Order | None:
    """The customer's pending order, if any (there is at most one)."""
    # Lock: none; a plain read, re-read after each rollback; every write it leads to is guarded.
    return db.session.scalar(
        select(Order).where(Order.user_id == user_id, Order.status == OrderStatus.PENDING)
    )


def _claim_slot(
    user_id: int, snapshot: Snapshot, expires_at: datetime
) -> tuple[int, str, datetime] | None:
    """Insert the pending order with its snapshot and its session's expiry, hold its units,
    and add a "created" timeline entry, in one transaction: (order id, checkout key,
    expiry), or None if another request won the slot. `stock.Shortage` naming the line if
    the units are gone."""
    order = Order(
        user_id=user_id,
        from_cart=snapshot.from_cart,
        status=OrderStatus.PENDING,
        expires_at=expires_at,
        currency=snapshot.currency,
        subtotal_cents=snapshot.total_cents,
        total_cents=snapshot.total_cents,
        promotion_code=snapshot.promotion[0] if snapshot.promotion else None,
        promotion_code_id=snapshot.promotion[1] if snapshot.promotion else None,
        cart_fingerprint=snapshot.fingerprint,
        language=snapshot.language,
        items=[
            OrderItem(
                product_id=item.product_id,
                name=item.name,
                unit_price_cents=item.unit_price_cents,
                quantity=item.quantity,
            )
            for item in snapshot.items
        ],
    )
    db.session.add(order)
    try:
        # Lock: unique index uq_orders_one_pending_per_user; a racing insert fails, resumes.
        db.session.flush()
        claimed = order.id, order.checkout_key, expires_at
        stock.hold(order.id, [(item.product_id, item.quantity) for item in snapshot.items])
        lifecycle.record(order.id, "created", BY_CUSTOMER)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    except stock.Shortage:
        db.session.rollback()  # nothing held, no order: the slot stays free
        raise
    return claimed


def _request(
    order_id: int,
    user_id: int,
    email: str,
    currency: str,
    items: tuple[Item, ...],
    urls: CheckoutUrls,
    expires_at: datetime,
    promotion_code_id: str | None = None,
    customer_id: str | None = None,
    language: str | None = None,
) -> payments.CheckoutRequest:
    """What Stripe is asked for, from values in hand (no database needed but the
    installation's tax rate, read once). The same order always makes the same request, so
    its key makes Stripe give the same session."""
    subtotal = sum(item.unit_price_cents * item.quantity for item in items)
    return payments.CheckoutRequest(
        order_id=order_id,
        customer_id=user_id,
        customer_email=email,
        currency=currency,
        lines=tuple(
            payments.CheckoutLine(
                name=item.name, unit_amount=item.unit_price_cents, quantity=item.quantity
            )
            for item in items
        ),
        success_url=urls.success,
        cancel_url=urls.cancel,
        expires_at=expires_at,
        ship_to=current_app.config["SHIP_TO_COUNTRIES"],
        shipping=_shipping_choices(currency, subtotal),
        promotion_code_id=promotion_code_id,
        tax_rate_id=payments.tax_rate_id(),
        automatic_tax=current_app.config["STRIPE_AUTOMATIC_TAX"],
        stripe_customer_id=customer_id,
        locale=language,
    )


def _shipping_choices(currency: str, subtotal: int) -> tuple[payments.ShippingChoice, ...]:
    """The rates of the order's currency, priced for its subtotal (`shop.shipping`)."""
    config = current_app.config
    return tuple(
        payments.ShippingChoice(
            key=offer.rate.name,
            label=offer.label,
            amount=offer.amount_cents,
            min_days=offer.rate.min_days,
            max_days=offer.rate.max_days,
        )
        for offer in shipping.offers(
            config["SHIPPING_RATES"], config["FREE_SHIPPING_OVER"], currency, subtotal
        )
    )


def _open_session(request: payments.CheckoutRequest, key: str) -> GoPay:
    """Create the Checkout Session for a freshly claimed order and record it on the order."""
    order_id = request.order_id
    try:
        session = payments.open_session(request, key)
    except payments.PaymentsRejected as error:
        if error.http_status == 409:
            # The same key is in flight at Stripe (a peer took this claim over, or the other
            # way round): that request records the session; it is not a failure.
            raise _PeerAtStripe() from None
        if error.param == "customer" and request.stripe_customer_id:
            # Stripe has no such Customer (deleted in the Dashboard, say): forget it, so the
            # customer's next try makes a new one instead of failing for good.
            _forget_customer(request.customer_id, request.stripe_customer_id)
        _fail_claim(order_id, error)
    except payments.PaymentsError as error:
        _fail_claim(order_id, error)
    recorded = db.session.execute(
        # Lock: guarded UPDATE; only a still-pending order without a session takes it (or one
        # that already holds this very session: a peer that took the claim over got it too).
        update(Order)
        .where(
            Order.id == order_id,
            Order.status == OrderStatus.PENDING,
            or_(Order.stripe_session_id.is_(None), Order.stripe_session_id == session.id),
        )
        .values(
            stripe_session_id=session.id,
            session_url=session.url,
            expires_at=session.expires_at,
            # Stripe names each offered rate by an id, in the order asked: keep their labels,
            # so the rate the customer picks is named on the order.
            shipping_offers=dict(
                zip(session.shipping_rate_ids, (c.label for c in request.shipping), strict=False)
            )
            or None,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if recorded != 1:
        # The order was given up as stale meanwhile: close the session so it cannot be paid
        # unnoticed (if it was paid already, fulfilment still finds the order by metadata).
        _close_quietly(session.id)
        raise CheckoutUnavailable(
            _("Payment could not be started. Nothing was charged; try again.")
        )
    return GoPay(order_id, session.url or "", resumed=False)


class _PeerAtStripe(Exception):
    """Another request is asking Stripe for this order's session right now."""


def _forget_customer(user_id: int, customer_id: str) -> None:
    """Clear an account's Stripe Customer that Stripe no longer has.

    Lock: guarded UPDATE ... WHERE stripe_customer_id = the id that failed; one a racing
    request stored meanwhile stays.
    """
    db.session.execute(
        update(User)
        .where(User.id == user_id, User.stripe_customer_id == customer_id)
        .values(stripe_customer_id=GONE_CUSTOMER + customer_id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _fail_claim(order_id: int, error: payments.PaymentsError) -> None:
    """Stripe did not open the session: fail the order (its units go back); say so."""
    log.warning("checkout: creating the session for order %s failed: %s", order_id, error)
    lifecycle.move(
        order_id,
        OrderStatus.FAILED,
        BY_CUSTOMER,
        only_from=[OrderStatus.PENDING],
        note=f"Stripe did not open a session: {error.message}",
    )
    db.session.commit()
    raise CheckoutUnavailable(
        _("Payment could not be started. Nothing was charged; please try again.")
    ) from None


def _take_over(pending: Order, email: str, urls: CheckoutUrls) -> bool:
    """Ask Stripe for a stuck claim's session with the claim's own key and parameters:
    Stripe gives back the session its first request made, or makes it now; either way it is
    recorded once, and the loop then resumes it (or replaces it, if the cart changed).
    False if another request was asking Stripe with that key at the same moment."""
    items = tuple(
        Item(item.product_id, item.name, item.unit_price_cents, item.quantity)
        for item in pending.items
    )
    customer_id = live_customer(
        db.session.scalar(select(User.stripe_customer_id).where(User.id == pending.user_id))
    )
    request = _request(pending.id, pending.user_id, email, pending.currency, items, urls,
                       pending.expires_at, pending.promotion_code_id, customer_id,
                       pending.language)  # fmt: skip
    key = pending.checkout_key
    db.session.rollback()  # hold no pooled connection while Stripe answers
    log.info("checkout: taking over order %s, still without a session", request.order_id)
    try:
        _open_session(request, key)
    except _PeerAtStripe:
        return False
    return True


def _free_stale_slot(order_id: int) -> None:
    """A pending order left without a session by a crash: fail it so the slot is free."""
    expiry.fail_stale_claim(order_id)
    db.session.commit()


def _resume_or_close(pending: Order, fingerprint: str) -> Outcome | None:
    """Resume the pending order's session if it still fits the cart; otherwise close it
    and retire the order (None: the slot is free for a new one).

    One question to Stripe either way: "how is it?" to resume, "close it" to replace.
    """
    order_id, session_id, url = pending.id, pending.stripe_session_id, pending.session_url
    same_cart = pending.cart_fingerprint == fingerprint
    fits = same_cart and pending.expires_at and pending.expires_at > utcnow() + RESUME_MARGIN
    db.session.rollback()  # hold no pooled connection while Stripe answers
    try:
        session = payments.get_session(session_id) if fits else payments.close_session(session_id)
    except payments.SessionNotFound:
        session = None  # Stripe has no such session: nothing can be paid on it
    except payments.PaymentsUnavailable:
        if fits:
            return GoPay(order_id, url, resumed=True)  # cannot check now; its page will say
        raise CheckoutUnavailable(_("Payment could not be started; please try again.")) from None
    except payments.PaymentsRejected:
        session = None
    if session is not None and session.is_open:
        return GoPay(order_id, url, resumed=True)
    if session is not None and session.status == "complete":
        return _already_completed(session)
    # Stripe expired it by time (or had no such session): expired; the shop closed it early
    # because the cart changed: cancelled.
    timed_out = session is not None and session.expires_at and session.expires_at <= utcnow()
    lifecycle.move(
        order_id,
        OrderStatus.EXPIRED if same_cart or timed_out else OrderStatus.CANCELLED,
        Origin(Source.CHECKOUT, session_id),
        only_from=[OrderStatus.PENDING],  # Lock: guarded UPDATE; a payment meanwhile wins
        note="" if same_cart else "replaced by a new checkout",
    )
    db.session.commit()
    return None


def _already_completed(session: payments.CheckoutSession) -> AlreadyPaid:
    """A session we meant to resume or replace was completed: record the payment instead of
    charging again."""
    order = settlement.fulfil(session, Origin(Source.CHECKOUT, session.id))
    if order is not None and order.status == OrderStatus.PAID:
        return AlreadyPaid(order.id)
    # Completed but not yet paid (a delayed payment method): keep waiting for Stripe.
    raise CheckoutRefused(_("Your last payment is still being processed; see My Orders."))


def _close_quietly(session_id: str) -> None:
    """Best-effort close of a session nobody will use."""
    try:
        payments.close_session(session_id)
    except payments.PaymentsError as error:
        log.warning("checkout: could not expire orphan session %s: %s", session_id, error)


@dataclass(frozen=True)
class Cancelled:
    """What leaving Stripe's page did to the customer's pending order: `closed` (cancelled,
    its units back on sale), `paid` (Stripe took the payment just before: recorded, never
    charged again), `unreachable` (Stripe did not answer: it stays pending and expires by
    itself), or `none` (there was no pending order)."""

    outcome: str
    order_id: int | None = None


def cancel_checkout(user_id: int, order_id: int | None = None) -> Cancelled:
    """The customer came back through the cancel url (or asked the API to cancel `order_id`):
    close their pending session at Stripe now, so its units go back on sale at once instead
    of at expiry. Stripe's answer decides: a session paid a moment before is recorded as
    paid, whatever the customer clicked."""
    chosen = select(Order.id, Order.stripe_session_id).where(
        Order.user_id == user_id,
        Order.status == OrderStatus.PENDING,
        Order.stripe_session_id.is_not(None),
    )
    if order_id is not None:
        chosen = chosen.where(Order.id == order_id)
    pending = db.session.execute(chosen.order_by(Order.id.desc()).limit(1)).one_or_none()
    db.session.rollback()  # hold no pooled connection while Stripe answers
    if pending is None:
        return Cancelled("none")
    order_id, session_id = pending
    origin = Origin(Source.CHECKOUT, session_id)
    try:
        session = payments.close_session(session_id)
    except payments.SessionNotFound:
        session = None
    except payments.PaymentsError as error:
        log.warning("cancel: cannot close %s at Stripe now: %s", session_id, error)
        return Cancelled("unreachable", order_id)
    if session is not None and session.status == "complete":
        order = settlement.fulfil(session, origin)
        if order is not None and order.status != OrderStatus.PENDING:
            return Cancelled("paid", order_id)
    # Lock: move()'s guarded UPDATE ... WHERE status = 'pending'; a payment meanwhile wins.
    moved = lifecycle.move(
        order_id,
        OrderStatus.CANCELLED,
        origin,
        only_from=[OrderStatus.PENDING],
        note="the customer left Stripe's page without paying",
    )
    db.session.commit()
    if not moved:
        status = db.session.scalar(select(Order.status).where(Order.id == order_id))
        db.session.rollback()
        if status in PAID_STATES:
            return Cancelled("paid", order_id)
    return Cancelled("closed", order_id)
