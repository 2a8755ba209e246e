"""Coupons, Promotion Codes and Tax Rates: their parameters, rows and Stripe shapes.

A coupon says what comes off (`percent_off`, or `amount_off` in one `currency`); a
promotion code is what customers type for it, with its own limits (`max_redemptions`,
`expires_at`, `restrictions`). A promotion code is redeemed when a session using it is
paid: one guarded UPDATE per limit, so parallel payments never pass `max_redemptions`.
"""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from . import currencies, errors, shapes
from .models import EmulatorCoupon, EmulatorPromotionCode, EmulatorTaxRate
from .params import (
    MAX_AMOUNT,
    PAGE,
    choice,
    expand,
    hash_of,
    integer,
    metadata,
    only,
    optional_string,
    page,
    present,
    string,
)
from .store import fetch, keyset_page

DURATIONS = ("forever", "once", "repeating")
_CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _boolean(value: Any, param: str) -> bool:
    """`true` or `false`, as the SDK encodes a bool."""
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise errors.invalid(param, f"Invalid boolean: {value}")


def _decimal(value: Any, param: str, low: Decimal, high: Decimal) -> Decimal:
    """A decimal number in range (`percent_off`, `percentage`)."""
    try:
        number = Decimal(string(value, param, 40).strip())
    except InvalidOperation:
        raise errors.invalid(param, f"Invalid decimal: {value}") from None
    if not number.is_finite() or number < low or number > high:
        raise errors.invalid(param, f"Invalid {param}: must be between {low} and {high}")
    return number


def _currency(value: Any, param: str) -> str:
    """A currency Stripe supports, lower case."""
    code = string(value, param, 3).lower()
    if not currencies.is_supported(code):
        raise errors.invalid(param, f"Invalid currency: {code}.")
    return code


# --- coupons ---


def coupon_params(params: dict[str, Any], now: int) -> dict[str, Any]:
    """Validate `POST /v1/coupons`."""
    only(params, {"id", "name", "percent_off", "amount_off", "currency", "duration",
                  "max_redemptions", "redeem_by", "metadata", "expand"})  # fmt: skip
    percent, amount = params.get("percent_off"), params.get("amount_off")
    if present(percent) == present(amount):
        raise errors.invalid(
            "percent_off", "You must pass exactly one of percent_off or amount_off."
        )
    values: dict[str, Any] = {"percent_off": None, "amount_off": None, "currency": None}
    if present(percent):
        values["percent_off"] = _decimal(percent, "percent_off", Decimal("0.01"), Decimal(100))
    else:
        values["amount_off"] = integer(amount, "amount_off", 1, MAX_AMOUNT)
        if not present(params.get("currency")):
            raise errors.invalid("currency", "You must pass currency when passing amount_off.")
        values["currency"] = _currency(params["currency"], "currency")
    duration = params.get("duration")
    values["duration"] = choice(duration, "duration", DURATIONS) if present(duration) else "once"
    redeem_by = params.get("redeem_by")
    if present(redeem_by):
        values["redeem_by"] = integer(redeem_by, "redeem_by", 0, 2**31 - 1)
        if values["redeem_by"] <= now:
            raise errors.invalid("redeem_by", "Coupon redeem_by must be in the future.")
    else:
        values["redeem_by"] = None
    limit = params.get("max_redemptions")
    values["max_redemptions"] = (
        integer(limit, "max_redemptions", 1, 2**31 - 1) if present(limit) else None
    )
    values["name"] = optional_string(params, "name", 40)
    values["id"] = optional_string(params, "id", 200)
    values["metadata"] = metadata(params.get("metadata"))
    expand(params.get("expand"), set())
    return values


def create_coupon(s: Session, values: dict[str, Any], now: int) -> EmulatorCoupon:
    """Store a coupon (its own id if given: a second with that id is Stripe's 400)."""
    coupon_id = values["id"] or shapes.new_id("", 8)
    if s.scalar(select(EmulatorCoupon.pk).where(EmulatorCoupon.id == coupon_id)):
        raise errors.ApiError("Coupon already exists.", code="resource_already_exists", param="id")
    row = EmulatorCoupon(
        id=coupon_id, name=values["name"], percent_off=values["percent_off"],
        amount_off=values["amount_off"], currency=values["currency"],
        duration=values["duration"], max_redemptions=values["max_redemptions"],
        redeem_by=values["redeem_by"], times_redeemed=0, meta=values["metadata"], created=now,
    )  # fmt: skip
    s.add(row)
    s.flush()
    return row


def get_coupon(s: Session, coupon_id: str, param: str = "id") -> EmulatorCoupon:
    """The coupon with this id, or Stripe's 404."""
    return fetch(s, EmulatorCoupon.id, coupon_id, "coupon", param)


def coupon_valid(coupon: EmulatorCoupon, now: int) -> bool:
    """Can still be redeemed: before `redeem_by`, under `max_redemptions`."""
    if coupon.redeem_by is not None and coupon.redeem_by <= now:
        return False
    return coupon.max_redemptions is None or coupon.times_redeemed < coupon.max_redemptions


def coupon(row: EmulatorCoupon, now: int) -> dict[str, Any]:
    """A `coupon` object."""
    return {
        "id": row.id,
        "object": "coupon",
        "amount_off": row.amount_off,
        "applies_to": None,
        "created": row.created,
        "currency": row.currency,
        "duration": row.duration,
        "duration_in_months": None,
        "livemode": False,
        "max_redemptions": row.max_redemptions,
        "metadata": dict(row.meta),
        "name": row.name,
        "percent_off": float(row.percent_off) if row.percent_off is not None else None,
        "redeem_by": row.redeem_by,
        "times_redeemed": row.times_redeemed,
        "valid": coupon_valid(row, now),
    }


# --- promotion codes ---


def promotion_code_params(params: dict[str, Any], now: int) -> dict[str, Any]:
    """Validate `POST /v1/promotion_codes` (API 2025-09-30 and later: `promotion[coupon]`)."""
    only(params, {"promotion", "code", "active", "customer", "expires_at", "max_redemptions",
                  "metadata", "restrictions", "expand"})  # fmt: skip
    if not present(params.get("promotion")):
        raise errors.missing("promotion")
    promotion = hash_of(params["promotion"], "promotion")
    only(promotion, {"type", "coupon"}, "promotion")
    choice(promotion.get("type"), "promotion[type]", ("coupon",))
    if not present(promotion.get("coupon")):
        raise errors.missing("promotion[coupon]")
    code = optional_string(params, "code", 500)
    if code is not None and (not set(code) <= _CODE_CHARS or len(code) > 200):
        raise errors.invalid(
            "code", "The code may only contain letters, digits, dashes and underscores."
        )
    values: dict[str, Any] = {
        "coupon": string(promotion["coupon"], "promotion[coupon]", 200),
        "code": code or shapes.new_id("", 8).upper(),
        "active": _boolean(params["active"], "active") if present(params.get("active")) else True,
        "metadata": metadata(params.get("metadata")),
    }
    if present(params.get("customer")):
        raise errors.invalid("customer", "The Stripe emulator keeps no customers.")
    expires_at = params.get("expires_at")
    values["expires_at"] = integer(expires_at, "expires_at", 0, 2**31 - 1) if present(
        expires_at
    ) else None  # fmt: skip
    if values["expires_at"] is not None and values["expires_at"] <= now:
        raise errors.invalid("expires_at", "The expiration date must be in the future.")
    limit = params.get("max_redemptions")
    values["max_redemptions"] = (
        integer(limit, "max_redemptions", 1, 2**31 - 1) if present(limit) else None
    )
    values.update(_restrictions(params.get("restrictions")))
    expand(params.get("expand"), {"promotion.coupon"})
    return values


def _restrictions(value: Any) -> dict[str, Any]:
    """`restrictions[first_time_transaction|minimum_amount|minimum_amount_currency]`."""
    found = {"first_time_transaction": False, "minimum_amount": None,
             "minimum_amount_currency": None}  # fmt: skip
    if not present(value):
        return found
    restrictions = hash_of(value, "restrictions")
    only(restrictions, {"first_time_transaction", "minimum_amount", "minimum_amount_currency"},
         "restrictions")  # fmt: skip
    if present(restrictions.get("first_time_transaction")):
        found["first_time_transaction"] = _boolean(
            restrictions["first_time_transaction"], "restrictions[first_time_transaction]"
        )
    amount, currency = (
        restrictions.get("minimum_amount"),
        restrictions.get("minimum_amount_currency"),
    )
    if present(amount) != present(currency):
        raise errors.invalid(
            "restrictions[minimum_amount_currency]",
            "minimum_amount and minimum_amount_currency must be passed together.",
        )
    if present(amount):
        found["minimum_amount"] = integer(amount, "restrictions[minimum_amount]", 1, MAX_AMOUNT)
        found["minimum_amount_currency"] = _currency(
            currency, "restrictions[minimum_amount_currency]"
        )
    return found


def create_promotion_code(s: Session, values: dict[str, Any], now: int) -> EmulatorPromotionCode:
    """Store a promotion code; an active one with the same code (any case) is refused."""
    found = get_coupon(s, values["coupon"], "promotion[coupon]")
    if found.amount_off is not None and values["minimum_amount_currency"] not in (
        None,
        found.currency,
    ):
        raise errors.invalid(
            "restrictions[minimum_amount_currency]",
            "The minimum amount currency must match the coupon's currency.",
        )
    if values["active"] and _active_with_code(s, values["code"]) is not None:
        raise errors.invalid(
            "code", "An active promotion code with `code` "
            f"`{values['code']}` already exists.", code="resource_already_exists",
        )  # fmt: skip
    row = EmulatorPromotionCode(
        id=shapes.new_id("promo_"), code=values["code"], coupon_id=found.id,
        active=values["active"], max_redemptions=values["max_redemptions"], times_redeemed=0,
        expires_at=values["expires_at"],
        first_time_transaction=values["first_time_transaction"],
        minimum_amount=values["minimum_amount"],
        minimum_amount_currency=values["minimum_amount_currency"],
        meta=values["metadata"], created=now,
    )  # fmt: skip
    s.add(row)
    s.flush()
    return row


def _active_with_code(s: Session, code: str) -> EmulatorPromotionCode | None:
    """The active promotion code spelled `code` (any case)."""
    return s.scalar(
        select(EmulatorPromotionCode).where(
            func.upper(EmulatorPromotionCode.code) == code.upper(),
            EmulatorPromotionCode.active.is_(True),
        )
    )


def get_promotion_code(s: Session, promo_id: str, param: str = "id") -> EmulatorPromotionCode:
    """The promotion code with this id, or Stripe's 404."""
    return fetch(s, EmulatorPromotionCode.id, promo_id, "promotion code", param)


def update_promotion_code_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate `POST /v1/promotion_codes/{id}` (what the shop changes: `active`)."""
    only(params, {"active", "metadata", "expand"})
    return {
        "active": _boolean(params["active"], "active") if present(params.get("active")) else None,
        "metadata": metadata(params.get("metadata")) if present(params.get("metadata")) else None,
    }


def update_promotion_code(
    s: Session, promo_id: str, values: dict[str, Any]
) -> EmulatorPromotionCode:
    """Deactivate (or reactivate) a promotion code; its redemptions stay."""
    row = get_promotion_code(s, promo_id)
    reactivated = values["active"] is True and not row.active
    if reactivated and _active_with_code(s, row.code) is not None:
        raise errors.invalid("active", "An active promotion code with this code exists.")
    if values["active"] is not None:
        row.active = values["active"]
    if values["metadata"] is not None:
        row.meta = {**row.meta, **values["metadata"]}
    s.flush()
    return row


def list_promotion_codes_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate `GET /v1/promotion_codes`: a page, filtered by `code`, `active`, `coupon`."""
    only(params, PAGE | {"code", "active", "coupon", "created", "customer", "expand"})
    active = params.get("active")
    return {
        **page(params),
        "code": optional_string(params, "code", 500),
        "active": _boolean(active, "active") if present(active) else None,
        "coupon": optional_string(params, "coupon", 200),
    }


def list_promotion_codes(s: Session, query: dict[str, Any]) -> tuple[list, bool]:
    """A page of promotion codes, newest first."""
    stmt = select(EmulatorPromotionCode)
    if query["code"]:
        stmt = stmt.where(func.upper(EmulatorPromotionCode.code) == query["code"].upper())
    if query["active"] is not None:
        stmt = stmt.where(EmulatorPromotionCode.active.is_(query["active"]))
    if query["coupon"]:
        stmt = stmt.where(EmulatorPromotionCode.coupon_id == query["coupon"])

    def cursor(promo_id: str, param: str) -> tuple:
        """The position of the code a cursor names."""
        return (get_promotion_code(s, promo_id, param).pk,)

    return keyset_page(s, stmt, (EmulatorPromotionCode.pk,), cursor, query)


def promotion_code(s: Session, row: EmulatorPromotionCode, now: int, expanded=False) -> dict:
    """A `promotion_code` object (`promotion.coupon` expanded when asked)."""
    found = get_coupon(s, row.coupon_id)
    return {
        "id": row.id,
        "object": "promotion_code",
        "active": row.active,
        "code": row.code,
        "created": row.created,
        "customer": None,
        "customer_account": None,
        "expires_at": row.expires_at,
        "livemode": False,
        "max_redemptions": row.max_redemptions,
        "metadata": dict(row.meta),
        "promotion": {"coupon": coupon(found, now) if expanded else found.id, "type": "coupon"},
        "restrictions": {
            "first_time_transaction": row.first_time_transaction,
            "minimum_amount": row.minimum_amount,
            "minimum_amount_currency": row.minimum_amount_currency,
        },
        "times_redeemed": row.times_redeemed,
    }


def refusal(
    s: Session,
    row: EmulatorPromotionCode,
    currency: str,
    subtotal: int,
    email: str | None,
    now: int,
    _: Callable[..., str] = lambda text, **values: text % values,
) -> str | None:
    """Why this code cannot be used on a session (Stripe's words), or None if it can; the
    API says it in English, the hosted page passes gettext as `_` to say it in the page's
    language."""
    found = get_coupon(s, row.coupon_id)
    if not row.active:
        return _("The promotion code `%(code)s` is inactive.", code=row.code)
    if (row.expires_at is not None and row.expires_at <= now) or (
        found.redeem_by is not None and found.redeem_by <= now
    ):
        return _("The promotion code `%(code)s` has expired.", code=row.code)
    if (row.max_redemptions is not None and row.times_redeemed >= row.max_redemptions) or (
        found.max_redemptions is not None and found.times_redeemed >= found.max_redemptions
    ):
        return _("The promotion code `%(code)s` has been fully redeemed.", code=row.code)
    if found.currency is not None and found.currency != currency:
        return _("The promotion code `%(code)s` is for %(currency)s payments only.",
                 code=row.code, currency=found.currency.upper())  # fmt: skip
    if row.minimum_amount is not None and (
        row.minimum_amount_currency != currency or subtotal < row.minimum_amount
    ):
        least = currencies.format_amount(row.minimum_amount, row.minimum_amount_currency or "")
        return _("The promotion code `%(code)s` requires an order of at least %(least)s.",
                 code=row.code, least=least)  # fmt: skip
    if row.first_time_transaction and _has_paid_before(s, email):
        return _("The promotion code `%(code)s` is only valid for a first purchase.",
                 code=row.code)  # fmt: skip
    return None


def _has_paid_before(s: Session, email: str | None) -> bool:
    """Whether a paid session of this customer (by email) exists."""
    from .models import EmulatorSession

    if not email:
        return False
    return (
        s.scalar(
            select(EmulatorSession.pk)
            .where(
                func.lower(EmulatorSession.customer_email) == email.lower(),
                EmulatorSession.status == "complete",
                EmulatorSession.payment_status.in_(("paid", "no_payment_required")),
            )
            .limit(1)
        )
        is not None
    )


def find_active(s: Session, code: str) -> EmulatorPromotionCode | None:
    """The active promotion code customers type as `code` (any case), for the hosted page."""
    return _active_with_code(s, code)


def redeem(s: Session, discount: dict[str, Any] | None, now: int) -> bool:
    """Count one redemption of a paid session's discount; False (nothing written) if a limit
    was reached meanwhile, or the code was deactivated or expired.

    Lock: one guarded UPDATE per row (`times_redeemed < max_redemptions`); under parallel
    payments the row lock makes each wait and re-check, so the limit is never passed.
    """
    if not discount:
        return True
    if discount.get("promotion_code"):
        moved = s.execute(
            update(EmulatorPromotionCode)
            .where(
                EmulatorPromotionCode.id == discount["promotion_code"],
                EmulatorPromotionCode.active.is_(True),
                or_(
                    EmulatorPromotionCode.expires_at.is_(None),
                    EmulatorPromotionCode.expires_at > now,
                ),
                or_(
                    EmulatorPromotionCode.max_redemptions.is_(None),
                    EmulatorPromotionCode.times_redeemed < EmulatorPromotionCode.max_redemptions,
                ),
            )  # fmt: skip
            .values(times_redeemed=EmulatorPromotionCode.times_redeemed + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            return False
    moved = s.execute(
        update(EmulatorCoupon)
        .where(
            EmulatorCoupon.id == discount["coupon"],
            or_(EmulatorCoupon.redeem_by.is_(None), EmulatorCoupon.redeem_by > now),
            or_(
                EmulatorCoupon.max_redemptions.is_(None),
                EmulatorCoupon.times_redeemed < EmulatorCoupon.max_redemptions,
            ),
        )  # fmt: skip
        .values(times_redeemed=EmulatorCoupon.times_redeemed + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(moved)


# --- tax rates ---


def tax_rate_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate `POST /v1/tax_rates`."""
    only(params, {"display_name", "inclusive", "percentage", "active", "country", "description",
                  "jurisdiction", "metadata", "state", "tax_type", "expand"})  # fmt: skip
    for name in ("display_name", "inclusive", "percentage"):
        if not present(params.get(name)):
            raise errors.missing(name)
    active = params.get("active")
    return {
        "display_name": string(params["display_name"], "display_name", 50),
        "inclusive": _boolean(params["inclusive"], "inclusive"),
        "percentage": _decimal(params["percentage"], "percentage", Decimal(0), Decimal(100)),
        "active": _boolean(active, "active") if present(active) else True,
        "country": optional_string(params, "country", 2),
        "description": optional_string(params, "description", 500),
        "jurisdiction": optional_string(params, "jurisdiction", 50),
        "metadata": metadata(params.get("metadata")),
    }


def create_tax_rate(s: Session, values: dict[str, Any], now: int) -> EmulatorTaxRate:
    """Store a tax rate."""
    row = EmulatorTaxRate(
        id=shapes.new_id("txr_"), display_name=values["display_name"],
        description=values["description"], percentage=values["percentage"],
        inclusive=values["inclusive"], active=values["active"], country=values["country"],
        jurisdiction=values["jurisdiction"], meta=values["metadata"], created=now,
    )  # fmt: skip
    s.add(row)
    s.flush()
    return row


def get_tax_rate(s: Session, rate_id: str, param: str = "id") -> EmulatorTaxRate:
    """The tax rate with this id, or Stripe's 404."""
    return fetch(s, EmulatorTaxRate.id, rate_id, "tax_rate", param)


def tax_rate(row: EmulatorTaxRate) -> dict[str, Any]:
    """A `tax_rate` object."""
    percentage = float(row.percentage)
    return {
        "id": row.id,
        "object": "tax_rate",
        "active": row.active,
        "country": row.country,
        "created": row.created,
        "description": row.description,
        "display_name": row.display_name,
        "effective_percentage": percentage,
        "flat_amount": None,
        "inclusive": row.inclusive,
        "jurisdiction": row.jurisdiction,
        "jurisdiction_level": None,
        "livemode": False,
        "metadata": dict(row.meta),
        "percentage": percentage,
        "rate_type": "percentage",
        "state": None,
        "tax_type": None,
    }


# --- on a session ---


def coupon_snapshot(row: EmulatorCoupon) -> dict[str, Any]:
    """What a session keeps of its coupon to price itself (`pricing.discount_of`)."""
    return {
        "percent_off": str(row.percent_off) if row.percent_off is not None else None,
        "amount_off": row.amount_off,
        "currency": row.currency,
    }


def session_discount(
    s: Session,
    wanted: dict[str, Any],
    currency: str,
    subtotal: int,
    email: str | None,
    now: int,
    param: str = "discounts[0][promotion_code]",
) -> dict[str, Any] | None:
    """The discount a session is created with (`discounts[0]`), checked as Stripe checks it:
    `{"promotion_code", "coupon", "snapshot"}`, or None without one."""
    if wanted.get("promotion_code"):
        row = get_promotion_code(s, wanted["promotion_code"], param)
        reason = refusal(s, row, currency, subtotal, email, now)
        if reason:
            raise errors.invalid(param, reason, code="promotion_code_invalid")
        found = get_coupon(s, row.coupon_id)
        return {"promotion_code": row.id, "coupon": found.id, "snapshot": coupon_snapshot(found)}
    if wanted.get("coupon"):
        found = get_coupon(s, wanted["coupon"], "discounts[0][coupon]")
        if not coupon_valid(found, now):
            raise errors.invalid("discounts[0][coupon]", f"Coupon `{found.id}` is not valid.")
        if found.currency is not None and found.currency != currency:
            raise errors.invalid(
                "discounts[0][coupon]",
                f"Coupon `{found.id}` is for {found.currency.upper()} payments only.",
            )
        return {"promotion_code": None, "coupon": found.id, "snapshot": coupon_snapshot(found)}
    return None


def rate_snapshots(s: Session, ids: list[str], param: str) -> list[dict[str, Any]]:
    """The active Tax Rates a line names, as the line keeps them."""
    found = []
    for index, rate_id in enumerate(ids):
        row = get_tax_rate(s, rate_id, f"{param}[{index}]")
        if not row.active:
            raise errors.invalid(f"{param}[{index}]", f"Tax rate `{row.id}` is not active.")
        found.append({"id": row.id, "percentage": str(row.percentage),
                      "inclusive": row.inclusive, "shape": tax_rate(row)})  # fmt: skip
    return found
