"""Promotion codes: made and withdrawn by admins, applied by customers to their cart.

A code is created at Stripe first (coupon and promotion code, through the payments door)
and then stored; a code that Stripe refused is never stored. Applying a code checks what
the shop knows (expired, below the minimum, another currency, not a first order) and then
asks Stripe how often it was redeemed, so "used up" is Stripe's count, not a guess. The
cart shows the discount the code will take; the order keeps what Stripe charged.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from .. import payments
from ..cart.models import CartCode
from ..extensions import db
from ..models import utcnow
from ..money import format_money
from ..orders.models import PAID_STATES, Order
from .models import Promotion

log = logging.getLogger(__name__)


class PromotionError(Exception):
    """A code cannot be made or applied; the message says why, `field` names the input."""

    def __init__(self, message: str, field: str = "code"):
        super().__init__(message)
        self.field = field


class CodeRefused(PromotionError):
    """The code does not apply to this cart; `reason` is one of REASONS."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class CodesUnavailable(Exception):
    """Stripe could not be asked about the code."""


#: Why a code does not apply (`data-reason` on the cart's message).
REASONS = ("unknown", "expired", "used_up", "below_minimum", "other_currency", "not_first_order")


@dataclass(frozen=True)
class NewPromotion:
    """What an admin asks for (checked by `admin.forms`)."""

    code: str
    percent_off: int | None
    amount_off_cents: int | None
    currency: str | None
    max_redemptions: int | None
    expires_at: datetime | None
    minimum_cents: int | None
    first_order_only: bool


@dataclass(frozen=True)
class Listed:
    """A code on the admin's list, with how often paid orders used it."""

    promotion: Promotion
    times_redeemed: int


@dataclass(frozen=True)
class Applied:
    """The code on a cart and what it takes off, or why it no longer applies."""

    code: str
    discount_cents: int
    total_cents: int
    problem: str | None = None
    reason: str | None = None


def normalise(code: str) -> str:
    """The one spelling of a code: trimmed, upper case."""
    return code.strip().upper()


def find(code: str) -> Promotion | None:
    """The code as customers type it (any case)."""
    return db.session.scalar(select(Promotion).where(Promotion.code == normalise(code)))


def create(new: NewPromotion, admin_id: int | None) -> Promotion:
    """Create the code at Stripe, then store it. `PromotionError` for a duplicate code or
    what Stripe refused; `CodesUnavailable` when Stripe cannot be reached."""
    if find(new.code) is not None:
        raise PromotionError(_("The code %(code)s exists already.", code=new.code))
    db.session.rollback()  # no connection held while Stripe answers
    spec = payments.PromotionSpec(
        code=new.code, percent_off=new.percent_off, amount_off=new.amount_off_cents,
        currency=new.currency, max_redemptions=new.max_redemptions,
        expires_at=new.expires_at, minimum_amount=new.minimum_cents,
        first_order_only=new.first_order_only,
    )  # fmt: skip
    try:
        created = payments.create_promotion(spec)
    except payments.PaymentsRejected as error:
        raise PromotionError(
            _("Stripe refused the code: %(why)s", why=error.message), "code"
        ) from None
    except payments.PaymentsError as error:
        raise CodesUnavailable(error.message) from None
    promotion = Promotion(
        code=new.code, percent_off=new.percent_off, amount_off_cents=new.amount_off_cents,
        currency=new.currency, max_redemptions=new.max_redemptions, expires_at=new.expires_at,
        minimum_cents=new.minimum_cents, first_order_only=new.first_order_only, active=True,
        stripe_coupon_id=created.coupon_id,
        stripe_promotion_code_id=created.promotion_code_id, created_by=admin_id,
    )  # fmt: skip
    db.session.add(promotion)
    try:
        # Lock: the unique code; of two admins creating one code at once, one stores it.
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _withdraw_quietly(created.promotion_code_id)
        raise PromotionError(_("The code %(code)s exists already.", code=new.code)) from None
    return promotion


def _withdraw_quietly(promotion_code_id: str) -> None:
    """Deactivate at Stripe a code the shop could not store (it lost a race)."""
    try:
        payments.deactivate_promotion(promotion_code_id)
    except payments.PaymentsError as error:
        log.warning("promotions: could not deactivate unstored code %s: %s", promotion_code_id,
                    error.message)  # fmt: skip


def deactivate(code: str) -> Promotion | None:
    """Stop new uses of a code, at Stripe and here; None if there is no such code. Orders
    and open checkouts that used it keep it (Stripe's own rule)."""
    promotion = find(code)
    if promotion is None:
        return None
    promotion_code_id = promotion.stripe_promotion_code_id
    db.session.rollback()
    try:
        payments.deactivate_promotion(promotion_code_id)
    except payments.PaymentsError as error:
        raise CodesUnavailable(error.message) from None
    promotion = find(code)
    promotion.active = False
    # Carts holding it drop it: it would only be refused at checkout.
    db.session.execute(CartCode.__table__.delete().where(CartCode.code == promotion.code))
    db.session.commit()
    return promotion


def listing() -> list[Listed]:
    """Every code, newest first, with the paid orders that used it (one query)."""
    used = (
        select(Order.promotion_code, func.count().label("n"))
        .where(Order.promotion_code.is_not(None), Order.status.in_([str(s) for s in PAID_STATES]))
        .group_by(Order.promotion_code)
        .subquery()
    )
    rows = db.session.execute(
        select(Promotion, func.coalesce(used.c.n, 0))
        .outerjoin(used, used.c.promotion_code == Promotion.code)
        .order_by(Promotion.created_at.desc(), Promotion.id.desc())
    )
    return [Listed(promotion, count) for promotion, count in rows]


def times_used(promotion: Promotion) -> int:
    """Paid orders that used the code (Stripe counts them too)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Order)
        .where(
            Order.promotion_code == promotion.code,
            Order.status.in_([str(s) for s in PAID_STATES]),
        )
    )


def discount_on(promotion: Promotion, subtotal_cents: int) -> int:
    """What the code takes off a subtotal, as Stripe will: a percentage rounded half up, or
    the amount, never more than the subtotal."""
    if promotion.percent_off is not None:
        off = Decimal(subtotal_cents * promotion.percent_off) / 100
        return min(subtotal_cents, int(off.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    return min(subtotal_cents, promotion.amount_off_cents or 0)


def refusal(
    promotion: Promotion | None, user_id: int, currency: str, subtotal_cents: int, now: datetime
) -> CodeRefused | None:
    """Why the code does not apply to this cart, from what the shop knows; None if it does."""
    if promotion is None or not promotion.active:
        return CodeRefused(_("That code is not one of ours. Check its spelling."), "unknown")
    if promotion.is_expired(now):
        return CodeRefused(_("The code %(code)s has expired.", code=promotion.code), "expired")
    if promotion.currency is not None and promotion.currency != currency:
        return CodeRefused(
            _(
                "The code %(code)s is for orders in %(theirs)s; your cart is in %(ours)s.",
                code=promotion.code,
                theirs=promotion.currency.upper(),
                ours=currency.upper(),
            ),
            "other_currency",
        )
    if promotion.minimum_cents is not None and subtotal_cents < promotion.minimum_cents:
        least = format_money(promotion.minimum_cents, promotion.currency)
        return CodeRefused(
            _(
                "The code %(code)s needs an order of at least %(least)s.",
                code=promotion.code,
                least=least,
            ),
            "below_minimum",
        )
    if promotion.first_order_only and _has_paid_order(user_id):
        return CodeRefused(
            _(
                "The code %(code)s is for a first order, and you have ordered before.",
                code=promotion.code,
            ),
            "not_first_order",
        )
    return None


def _used_up(promotion: Promotion) -> CodeRefused:
    """The refusal of a code with no redemption left."""
    return CodeRefused(_("The code %(code)s has been used up.", code=promotion.code), "used_up")


def _has_paid_order(user_id: int) -> bool:
    """Whether the customer has paid for an order before."""
    return (
        db.session.scalar(
            select(Order.id)
            .where(Order.user_id == user_id, Order.status.in_([str(s) for s in PAID_STATES]))
            .limit(1)
        )
        is not None
    )


def apply(user_id: int, code: str, currency: str, subtotal_cents: int) -> Promotion:
    """Put a code on the customer's cart (replacing one there): `CodeRefused` with the
    reason, or `CodesUnavailable` if Stripe cannot say whether it is used up."""
    if not code.strip():
        raise PromotionError(_("Enter a code."))
    promotion = find(code)
    refused = refusal(promotion, user_id, currency, subtotal_cents, utcnow())
    if refused:
        raise refused
    promotion_id, promotion_code_id = promotion.id, promotion.stripe_promotion_code_id
    code = promotion.code
    db.session.rollback()  # no connection held while Stripe answers
    try:
        at_stripe = payments.promotion_code(promotion_code_id)
    except payments.PaymentsError as error:
        raise CodesUnavailable(error.message) from None
    promotion = db.session.get(Promotion, promotion_id)
    if not at_stripe.active:
        raise CodeRefused(_("That code is not one of ours. Check its spelling."), "unknown")
    if at_stripe.used_up:
        raise _used_up(promotion)
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    # Lock: upsert on the cart's one row (user_id); the last code applied wins.
    upsert = dialect.insert(CartCode).values(user_id=user_id, code=code, applied_at=utcnow())
    db.session.execute(
        upsert.on_conflict_do_update(
            index_elements=["user_id"], set_={"code": code, "applied_at": utcnow()}
        )
    )
    db.session.commit()
    return promotion


def remove(user_id: int) -> None:
    """Take the code off the customer's cart (none there is fine)."""
    db.session.execute(CartCode.__table__.delete().where(CartCode.user_id == user_id))
    db.session.commit()


def applied(user_id: int, code: str | None, currency: str, subtotal_cents: int) -> Applied | None:
    """The cart's code (`Cart.code`, read with its lines) with what it takes off, or why it
    no longer applies (withdrawn, expired, the cart fell below the minimum, the limit was
    reached by paid orders); None without one, at no query."""
    if code is None:
        return None
    promotion = find(code)
    if promotion is None:
        refused = refusal(None, user_id, currency, subtotal_cents, utcnow())
        return Applied(code, 0, subtotal_cents, str(refused), refused.reason)
    refused = refusal(promotion, user_id, currency, subtotal_cents, utcnow())
    limited = refused is None and promotion.max_redemptions is not None
    if limited and times_used(promotion) >= promotion.max_redemptions:
        refused = _used_up(promotion)
    if refused is not None:
        return Applied(promotion.code, 0, subtotal_cents, str(refused), refused.reason)
    off = discount_on(promotion, subtotal_cents)
    return Applied(promotion.code, off, subtotal_cents - off)


def for_checkout(
    user_id: int, code: str | None, currency: str, subtotal_cents: int
) -> tuple[str, str] | None:
    """The cart's code to send to Stripe as (code, Stripe id), when it applies; `CodeRefused`
    when the cart holds a code that no longer does (the customer is told, never charged
    full price silently)."""
    found = applied(user_id, code, currency, subtotal_cents)
    if found is None:
        return None
    if found.problem:
        remove = _("Remove it to check out.")
        raise CodeRefused(f"{found.problem} {remove}", found.reason or "unknown")
    return found.code, find(found.code).stripe_promotion_code_id


def code_named(promotion_code_id: str) -> str | None:
    """The shop's code for Stripe's promotion code id (a code typed on Stripe's page)."""
    return db.session.scalar(
        select(Promotion.code).where(Promotion.stripe_promotion_code_id == promotion_code_id)
    )


def describe(promotion: Promotion) -> str:
    """What a code takes off, as the admin list says it: "10% off", "€5.00 off"."""
    if promotion.percent_off is not None:
        return _("%(percent)d%% off", percent=promotion.percent_off)
    return _("%(amount)s off", amount=format_money(promotion.amount_off_cents, promotion.currency))
