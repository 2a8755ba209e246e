"""Shop-level requests to Stripe's parameters, and Stripe's objects to shop-level views.

The only place that knows Stripe's names (`price_data`, `line_items`, `payment_intent`...).
Objects arrive from the SDK or from a webhook body; anything that is not what its type
promises raises `Malformed`, so a garbled payload never reaches a query.
"""

import re
from datetime import UTC, datetime
from typing import Any

from ..models import ID_MAX
from .types import (
    Address,
    Charge,
    ChargeEvent,
    CheckoutEvent,
    CheckoutRequest,
    CheckoutSession,
    Dispute,
    DisputeEvent,
    PaymentEvent,
    Refund,
    RefundEvent,
)

#: Stripe's ids and event types: printable ASCII, no spaces (and never a NUL, which
#: PostgreSQL refuses in text).
STRIPE_ID = re.compile(r"[\x21-\x7e]{1,255}")


class Malformed(ValueError):
    """A Stripe object (or event) that is not what its type promises."""


def is_stripe_id(value: Any) -> bool:
    """Whether `value` looks like a Stripe id (a string of printable ASCII, at most 255)."""
    return isinstance(value, str) and STRIPE_ID.fullmatch(value) is not None


def checkout_params(request: CheckoutRequest) -> dict[str, Any]:
    """`POST /v1/checkout/sessions` parameters for a hosted payment page: the code from the
    cart as `discounts`, else `allow_promotion_codes` so one can be typed on Stripe's page;
    the installation's Tax Rate on every line, or Stripe Tax."""
    params = _shipping_params(request)
    if request.promotion_code_id:
        params["discounts"] = [{"promotion_code": request.promotion_code_id}]
    else:
        params["allow_promotion_codes"] = True
    if request.automatic_tax:
        params["automatic_tax"] = {"enabled": True}
    if request.stripe_customer_id:
        # The Customer carries the email; Stripe takes one or the other.
        params["customer"] = request.stripe_customer_id
        params["saved_payment_method_options"] = {"payment_method_save": "enabled"}
    tax = {"tax_rates": [request.tax_rate_id]} if request.tax_rate_id else {}
    return params | {
        "mode": "payment",
        "client_reference_id": str(request.customer_id),
        "metadata": {"order_id": str(request.order_id)},
        **({} if request.stripe_customer_id else {"customer_email": request.customer_email}),
        "line_items": [
            {
                "price_data": {
                    "currency": request.currency,
                    "unit_amount": line.unit_amount,
                    "product_data": {"name": line.name},
                },
                "quantity": line.quantity,
                **tax,
            }
            for line in request.lines
        ],
        **({"locale": request.locale} if request.locale else {}),
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "expires_at": int(request.expires_at.timestamp()),
    }


def _shipping_params(request: CheckoutRequest) -> dict[str, Any]:
    """The address to collect and the rates to offer, each an inline `shipping_rate_data`."""
    params: dict[str, Any] = {}
    if request.ship_to:
        params["shipping_address_collection"] = {"allowed_countries": list(request.ship_to)}
    if request.shipping:
        params["shipping_options"] = [
            {
                "shipping_rate_data": {
                    "type": "fixed_amount",
                    "display_name": choice.label,
                    "fixed_amount": {"amount": choice.amount, "currency": request.currency},
                    "delivery_estimate": {
                        "minimum": {"unit": "business_day", "value": choice.min_days},
                        "maximum": {"unit": "business_day", "value": choice.max_days},
                    },
                    "metadata": {"rate": choice.key},
                }
            }
            for choice in request.shipping
        ]
    return params


def _address(data: Any) -> Address | None:
    """`collected_information.shipping_details` (API 2025-03-31 on) or the older top-level
    `shipping_details`: a name and an address with at least a country."""
    if not isinstance(data, dict):
        return None
    address = data.get("address")
    if not isinstance(address, dict) or not isinstance(address.get("country"), str):
        return None

    def text(value: Any) -> str:
        return value.strip()[:200] if isinstance(value, str) else ""

    return Address(
        name=text(data.get("name")),
        line1=text(address.get("line1")),
        line2=text(address.get("line2")),
        city=text(address.get("city")),
        postal_code=text(address.get("postal_code")),
        state=text(address.get("state")),
        country=text(address["country"]).upper()[:2],
    )


def _shipping_of(data: dict[str, Any]) -> dict[str, Any]:
    """The session's shipping fields: what was collected, what it cost, what was offered."""
    collected = data.get("collected_information")
    details = collected.get("shipping_details") if isinstance(collected, dict) else None
    cost = data.get("shipping_cost") if isinstance(data.get("shipping_cost"), dict) else {}
    amount = cost.get("amount_total")
    options = data.get("shipping_options")
    return {
        "shipping_address": _address(details or data.get("shipping_details")),
        "shipping_amount": amount if isinstance(amount, int) and amount >= 0 else None,
        "shipping_rate_id": _id_of(cost.get("shipping_rate")),
        "shipping_rate_ids": tuple(
            _id_of(option.get("shipping_rate"))
            for option in (options if isinstance(options, list) else [])
            if isinstance(option, dict) and option.get("shipping_rate")
        ),
    }


def _id_of(value: Any) -> str | None:
    """An expandable field's id: the string itself, or the expanded object's `id`."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return None
    if not is_stripe_id(value):
        raise Malformed("an expandable field holds no Stripe id")
    return value


def _order_id(metadata: dict[str, Any]) -> int | None:
    """`metadata.order_id` as an order id, or None when absent or not one of ours."""
    raw = str(metadata.get("order_id", ""))
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= ID_MAX:
        return int(raw)
    return None


def _time(value: Any) -> datetime | None:
    """A Unix timestamp as an aware UTC datetime."""
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


def checkout_session(data: Any) -> CheckoutSession:
    """A `checkout.session` object (from the SDK or an event) as the shop's view of it."""
    if not (
        isinstance(data, dict)
        and data.get("object") == "checkout.session"
        and is_stripe_id(data.get("id"))
        and isinstance(data.get("metadata") or {}, dict)
        and isinstance(data.get("client_reference_id") or "", str | int)
        and isinstance(data.get("payment_status") or "", str)
        and isinstance(data.get("status") or "", str)
    ):
        raise Malformed("not a Checkout Session")
    reference = data.get("client_reference_id")
    total = data.get("amount_total")
    return CheckoutSession(
        id=data["id"],
        url=data.get("url") if isinstance(data.get("url"), str) else None,
        status=data.get("status") or "",
        payment_status=data.get("payment_status") or "",
        amount_total=total if isinstance(total, int) else None,
        currency=data.get("currency") if isinstance(data.get("currency"), str) else None,
        payment_intent_id=_id_of(data.get("payment_intent")),
        expires_at=_time(data.get("expires_at")),
        order_id=_order_id(data.get("metadata") or {}),
        customer_id=None if reference is None else str(reference),
        **_shipping_of(data),
        **_amounts(data),
    )


def _amount(value: Any, name: str) -> int:
    """A non-negative amount in minor units."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Malformed(f"{name} is not an amount")
    return value


def _text(value: Any) -> str | None:
    """A string field, or None."""
    return value if isinstance(value, str) else None


def refund(data: Any) -> Refund:
    """A `refund` object as the shop's view of it."""
    if not (
        isinstance(data, dict)
        and data.get("object") == "refund"
        and is_stripe_id(data.get("id"))
        and isinstance(data.get("metadata") or {}, dict)
        and isinstance(data.get("status"), str)
    ):
        raise Malformed("not a Refund")
    key = (data.get("metadata") or {}).get("refund_key")
    return Refund(
        id=data["id"],
        amount=_amount(data.get("amount"), "amount"),
        currency=_text(data.get("currency")) or "",
        status=data["status"],
        reason=_text(data.get("reason")) or "",
        payment_intent_id=_id_of(data.get("payment_intent")),
        failure_reason=_text(data.get("failure_reason")),
        shop_key=key if isinstance(key, str) and is_stripe_id(key) else None,
    )


def charge(data: Any) -> Charge:
    """A `charge` object as the shop's view of it."""
    if not (
        isinstance(data, dict) and data.get("object") == "charge" and is_stripe_id(data.get("id"))
    ):
        raise Malformed("not a Charge")
    return Charge(
        id=data["id"],
        payment_intent_id=_id_of(data.get("payment_intent")),
        amount=_amount(data.get("amount"), "amount"),
        amount_refunded=_amount(data.get("amount_refunded"), "amount_refunded"),
        refunded=data.get("refunded") is True,
    )


def dispute(data: Any) -> Dispute:
    """A `dispute` object as the shop's view of it."""
    if not (
        isinstance(data, dict)
        and data.get("object") == "dispute"
        and is_stripe_id(data.get("id"))
        and isinstance(data.get("status"), str)
        and isinstance(data.get("evidence_details") or {}, dict)
    ):
        raise Malformed("not a Dispute")
    return Dispute(
        id=data["id"],
        charge_id=_id_of(data.get("charge")),
        payment_intent_id=_id_of(data.get("payment_intent")),
        amount=_amount(data.get("amount"), "amount"),
        currency=_text(data.get("currency")) or "",
        reason=_text(data.get("reason")) or "",
        status=data["status"],
        evidence_due_by=_time((data.get("evidence_details") or {}).get("due_by")),
    )


def coupon_params(spec: Any) -> dict[str, Any]:
    """`POST /v1/coupons` for a shop code (a `PromotionSpec`): once per order."""
    params: dict[str, Any] = {
        "duration": "once",
        "name": spec.code,
        "metadata": {"code": spec.code},
    }
    if spec.percent_off is not None:
        params["percent_off"] = spec.percent_off
    else:
        params["amount_off"] = spec.amount_off
        params["currency"] = spec.currency
    return params


def promotion_code_params(spec: Any, coupon_id: str) -> dict[str, Any]:
    """`POST /v1/promotion_codes` for a shop code and its coupon."""
    params: dict[str, Any] = {
        "promotion": {"type": "coupon", "coupon": coupon_id},
        "code": spec.code,
    }
    if spec.max_redemptions is not None:
        params["max_redemptions"] = spec.max_redemptions
    if spec.expires_at is not None:
        params["expires_at"] = int(spec.expires_at.timestamp())
    restrictions: dict[str, Any] = {}
    if spec.first_order_only:
        restrictions["first_time_transaction"] = True
    if spec.minimum_amount is not None:
        restrictions["minimum_amount"] = spec.minimum_amount
        restrictions["minimum_amount_currency"] = spec.currency
    if restrictions:
        params["restrictions"] = restrictions
    return params


def tax_rate_params(percentage: str, name: str, inclusive: bool) -> dict[str, Any]:
    """`POST /v1/tax_rates` for the installation's one rate."""
    return {"display_name": name, "percentage": percentage, "inclusive": inclusive}


def _discount_of(data: dict[str, Any]) -> str | None:
    """The promotion code a session used (`discounts[0].promotion_code`), if any."""
    discounts = data.get("discounts")
    if not isinstance(discounts, list):
        return None
    for discount in discounts:
        if isinstance(discount, dict) and discount.get("promotion_code"):
            return _id_of(discount["promotion_code"])
    return None


def _amounts(data: dict[str, Any]) -> dict[str, Any]:
    """`amount_subtotal` and `total_details` (discount, tax) as the shop reads them."""
    details = data.get("total_details") if isinstance(data.get("total_details"), dict) else {}

    def amount(value: Any) -> int | None:
        return (
            value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
        )

    return {
        "amount_subtotal": amount(data.get("amount_subtotal")),
        "amount_discount": amount(details.get("amount_discount")) or 0,
        "amount_tax": amount(details.get("amount_tax")) or 0,
        "promotion_code_id": _discount_of(data),
    }


def refund_params(payment_intent_id: str, amount: int, reason: str, key: str) -> dict[str, Any]:
    """`POST /v1/refunds` parameters: this much of a PaymentIntent, tagged with the shop's key."""
    params: dict[str, Any] = {
        "payment_intent": payment_intent_id,
        "amount": amount,
        "metadata": {"refund_key": key},
    }
    if reason:
        params["reason"] = reason
    return params


#: The events the shop reads an object from: type prefix -> (reader, event class, field).
TYPED_EVENTS = {
    "checkout.session.": (checkout_session, CheckoutEvent, "session"),
    "refund.": (refund, RefundEvent, "refund"),
    "charge.dispute.": (dispute, DisputeEvent, "dispute"),
    "charge.": (charge, ChargeEvent, "charge"),
}


def event(data: dict[str, Any], via: str) -> PaymentEvent:
    """A verified event envelope as a typed shop event (`Malformed` if its object is not
    what the type promises)."""
    event_id, event_type = data["id"], data["type"]
    for prefix, (read, kind, field) in TYPED_EVENTS.items():
        if event_type.startswith(prefix):
            try:
                found = read(data["data"]["object"])
            except Malformed:
                raise Malformed(f"{event_type} without a {kind.__name__[:-5]}") from None
            return kind(id=event_id, type=event_type, via=via, **{field: found})
    return PaymentEvent(id=event_id, type=event_type, via=via)
