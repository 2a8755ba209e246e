"""Promotion codes and the tax rate, in the shop's terms.

A shop code is two Stripe objects: a Coupon (what comes off) and a Promotion Code (what
customers type, with its limits). Stripe counts the redemptions and refuses one past
`max_redemptions`; the shop asks it when a customer applies a code.

The tax rate is made once per installation: the first process to need it stores a random
idempotency key, every process creating the rate uses that key (so two workers starting
together get the one rate Stripe made), and the rate's id is stored for every later one.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import current_app

from . import gateway, installation, translate


@dataclass(frozen=True)
class PromotionSpec:
    """A code to create: a percentage, or an amount off in one currency, and its limits."""

    code: str
    percent_off: int | None
    amount_off: int | None
    currency: str | None
    max_redemptions: int | None
    expires_at: datetime | None
    minimum_amount: int | None
    first_order_only: bool


@dataclass(frozen=True)
class CreatedPromotion:
    """Stripe's ids for a new code."""

    coupon_id: str
    promotion_code_id: str


@dataclass(frozen=True)
class PromotionCode:
    """A promotion code as Stripe has it now."""

    id: str
    code: str
    active: bool
    times_redeemed: int
    max_redemptions: int | None

    @property
    def used_up(self) -> bool:
        """No redemption is left."""
        return self.max_redemptions is not None and self.times_redeemed >= self.max_redemptions


def create_promotion(spec: PromotionSpec) -> CreatedPromotion:
    """Create the coupon and its promotion code (a retry of either reuses its key)."""
    key = secrets.token_hex(12)
    coupon = gateway.create_coupon(translate.coupon_params(spec), idempotency_key=f"coupon-{key}")
    code = gateway.create_promotion_code(
        translate.promotion_code_params(spec, coupon["id"]), idempotency_key=f"promo-{key}"
    )
    return CreatedPromotion(coupon_id=coupon["id"], promotion_code_id=code["id"])


def deactivate_promotion(promotion_code_id: str) -> PromotionCode:
    """Stop new uses of a code; sessions and orders that used it keep it."""
    return _code(gateway.update_promotion_code(promotion_code_id, {"active": False}))


def promotion_code(promotion_code_id: str) -> PromotionCode:
    """A code as Stripe has it now: is it active, how often was it redeemed."""
    return _code(gateway.retrieve_promotion_code(promotion_code_id))


def _code(data: dict[str, Any]) -> PromotionCode:
    """Stripe's `promotion_code` as the shop's view."""
    return PromotionCode(
        id=data["id"],
        code=data["code"],
        active=bool(data["active"]),
        times_redeemed=int(data.get("times_redeemed") or 0),
        max_redemptions=data.get("max_redemptions"),
    )


def tax_rate_id() -> str | None:
    """The id of the installation's Tax Rate for TAX_RATE, TAX_NAME and TAX_INCLUSIVE, made
    at Stripe the first time it is needed; None without TAX_RATE."""
    config = current_app.config
    rate: Decimal | None = config["TAX_RATE"]
    if rate is None:
        return None
    spec = (str(rate.normalize()), config["TAX_NAME"], bool(config["TAX_INCLUSIVE"]))
    cache = current_app.extensions.setdefault("stripe_tax_rates", {})
    if spec in cache:
        return cache[spec]
    digest = hashlib.sha256(repr(spec).encode()).hexdigest()[:40]
    name = f"tax_rate:{digest}"
    found = installation.installation_value(name)
    if found is None:
        # Lock: the key row's primary key: every process creating this rate uses one key,
        # so Stripe makes it once, however many start together.
        key = installation.installation_secret(f"tax_key:{digest}", lambda: secrets.token_hex(16))
        created = gateway.create_tax_rate(
            translate.tax_rate_params(*spec), idempotency_key=f"tax-rate-{key}"
        )
        found = installation.store_once(name, created["id"])
    cache[spec] = found
    return found
