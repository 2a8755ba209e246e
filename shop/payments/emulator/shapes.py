"""Emulator rows as Stripe's JSON objects (the keys of Stripe's `checkout.session`)."""

import secrets
import string
import time
from typing import Any

import stripe

from . import errors, shipping
from .models import EmulatorSession

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id such as `cs_test_a1B2...` or `evt_...`."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def effective_status(row: EmulatorSession, now: int | None = None) -> str:
    """`open` sessions past `expires_at` read as `expired`, as at Stripe."""
    now = int(time.time()) if now is None else now
    if row.status == "open" and row.expires_at <= now:
        return "expired"
    return row.status


def line_item(row: EmulatorSession, line: dict[str, Any]) -> dict[str, Any]:
    """A Checkout line item (`object: item`) with its ad-hoc price."""
    amount = line["unit_amount"] * line["quantity"]
    discount, tax = line.get("amount_discount", 0), line.get("amount_tax", 0)
    rates = line.get("tax_rates") or []
    exclusive = tax if rates and not rates[0]["inclusive"] else 0
    return {
        "id": line["id"],
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": discount,
        "amount_subtotal": amount,
        "amount_tax": tax,
        "amount_total": amount - discount + exclusive,
        "currency": line["currency"],
        "description": line["name"],
        "discounts": [{"amount": discount, "discount": discount_object(row)}]
        if row.discount and discount
        else [],  # fmt: skip
        "metadata": {},
        "price": {
            "id": line["price_id"],
            "object": "price",
            "active": False,
            "billing_scheme": "per_unit",
            "created": row.created,
            "currency": line["currency"],
            "currency_options": None,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": line["product_id"],
            "recurring": None,
            "tax_behavior": "unspecified",
            "tiers": None,
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "one_time",
            "unit_amount": line["unit_amount"],
            "unit_amount_decimal": str(line["unit_amount"]),
        },
        "quantity": line["quantity"],
        "taxes": [
            {
                "amount": tax,
                "rate": rate["shape"],
                "taxability_reason": None,
                "taxable_amount": amount - discount - (tax if rate["inclusive"] else 0),
            }
            for rate in rates
        ],
    }


def discount_object(row: EmulatorSession) -> dict[str, Any]:
    """The `discount` a session's code or coupon made (one per session)."""
    return {
        "id": "di_" + row.id[-24:],
        "object": "discount",
        "checkout_session": row.id,
        "customer": row.customer,
        "customer_account": None,
        "end": None,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": row.discount["promotion_code"],
        "source": {"coupon": row.discount["coupon"], "type": "coupon"},
        "start": row.created,
        "subscription": None,
        "subscription_item": None,
    }


def line_items(row: EmulatorSession, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """A page of the session's line items as a Stripe list (default: the first ten)."""
    query = query or {"limit": 10, "starting_after": None, "ending_before": None}
    lines = row.line_items
    ids = [line["id"] for line in lines]
    start, stop = 0, len(lines)
    for param in ("starting_after", "ending_before"):
        cursor = query[param]
        if cursor is not None and cursor not in ids:
            raise errors.no_such("line_item", cursor, param)
    if query["starting_after"]:
        start = ids.index(query["starting_after"]) + 1
        stop = min(stop, start + query["limit"])
    elif query["ending_before"]:
        stop = ids.index(query["ending_before"])
        start = max(0, stop - query["limit"])
    else:
        stop = min(stop, query["limit"])
    has_more = stop < len(lines) if not query["ending_before"] else start > 0
    return {
        "object": "list",
        "data": [line_item(row, line) for line in lines[start:stop]],
        "has_more": has_more,
        "url": f"/v1/checkout/sessions/{row.id}/line_items",
    }


def session(row: EmulatorSession, expand: list[str] = (), now: int | None = None) -> dict:
    """A `checkout.session` object; `expand=["line_items"]` includes the items."""
    status = effective_status(row, now)
    body: dict[str, Any] = {
        "id": row.id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": True if row.allow_promotion_codes else None,
        "allowed_payment_method_types": None,
        "amount_subtotal": row.amount_subtotal,
        "amount_total": row.amount_total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "branding_settings": None,
        "cancel_url": row.cancel_url,
        "client_reference_id": row.client_reference_id,
        "client_secret": None,
        "consent": None,
        "consent_collection": None,
        "created": row.created,
        "currency": row.currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": row.customer,
        "customer_account": None,
        "customer_creation": "if_required",
        "customer_details": (
            {
                "address": None,
                "business_name": None,
                "email": row.customer_email,
                "individual_name": None,
                "name": None,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            }
            if status == "complete"
            else None
        ),
        "customer_email": None if row.customer else row.customer_email,
        "discounts": [
            {"coupon": row.discount["coupon"], "promotion_code": row.discount["promotion_code"]}
        ]
        if row.discount
        else [],  # fmt: skip
        "excluded_payment_method_types": None,
        "expires_at": row.expires_at,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": row.locale,
        "managed_payments": None,
        "metadata": dict(row.meta),
        "mode": row.mode,
        "name_collection": None,
        "optional_items": None,
        "origin_context": None,
        "payment_intent": row.payment_intent,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": list(row.payment_method_types),
        "payment_status": row.payment_status,
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "presentment_details": None,
        "recovered_from": None,
        "redirect_on_completion": None,
        "return_url": None,
        "saved_payment_method_options": {
            "allow_redisplay_filters": ["always"],
            "payment_method_remove": None,
            "payment_method_save": "enabled" if row.save_card_offered else None,
        }
        if row.customer
        else None,
        "setup_intent": None,
        "status": status,
        "submit_type": None,
        "subscription": None,
        "success_url": row.success_url,
        "tax_id_collection": {"enabled": False, "required": "never"},
        "total_details": {
            "amount_discount": row.amount_discount,
            "amount_shipping": shipping.shipping_amount(row.shipping),
            "amount_tax": row.amount_tax,
        },
        "ui_mode": "hosted_page",
        "url": row.url if status == "open" else None,
        "wallet_options": None,
    }
    body.update(shipping.session_fields(row.shipping, status == "complete"))
    if "line_items" in expand:
        body["line_items"] = line_items(row)
    return dict(sorted(body.items()))


def event(
    event_id: str,
    event_type: str,
    obj: dict[str, Any],
    created: int,
    request_id: str | None = None,
    idempotency_key: str | None = None,
    previous: dict[str, Any] | None = None,
) -> dict:
    """Stripe's event envelope around a snapshot of `obj`, naming the request that caused it;
    an `*.updated` event carries the changed fields' `previous` values."""
    return {
        "id": event_id,
        "object": "event",
        "account": None,  # not a Connect event
        "api_version": stripe.api_version,  # the version the SDK pins
        "context": None,
        "created": created,
        "data": {"object": obj, **({"previous_attributes": previous} if previous else {})},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }
