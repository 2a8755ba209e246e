"""Checks of the Checkout Session endpoints: create, retrieve/expire, list, line items."""

import re
from typing import Any

from . import currencies, errors, shipping
from .params import (
    MAX_AMOUNT,
    PAGE,
    choice,
    created_range,
    expand,
    hash_of,
    integer,
    metadata,
    only,
    optional_string,
    page,
    present,
    string,
    url,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_QUANTITY = 999_999
MAX_IMAGES = 8
MIN_EXPIRY, MAX_EXPIRY = 30 * 60, 24 * 60 * 60
# The caller computes `now + 30 min` a moment before we read the clock; like Stripe, allow
# for that delay instead of refusing the exact minimum.
EXPIRY_GRACE = 60
#: Every `ui_mode` Stripe knows (API 2026-09-30 and later); only the hosted page is served.
UI_MODES = ("hosted_page", "embedded_page", "elements", "form")
STATUSES = ("open", "complete", "expired")
#: Every `locale` Stripe's Checkout knows.
LOCALES = (
    "auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil",
    "fr", "fr-CA", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl",
    "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW",
)  # fmt: skip
#: What a session answer can expand, and the same inside a list answer.
EXPANDABLE = {"line_items", "payment_intent"}
LIST_EXPANDABLE = {f"data.{name}" for name in EXPANDABLE}


def _currency(value: Any, param: str) -> str:
    """A currency Stripe supports, in lower case."""
    currency = string(value, param, 5000).lower()
    if not currencies.is_supported(currency):
        raise errors.invalid(
            param,
            f"Invalid currency: {currency}. Stripe currently supports these currencies: "
            + ", ".join(currencies.SUPPORTED),
        )
    return currency


def _images(value: Any, param: str) -> list[str]:
    """`product_data[images]`: up to eight image URLs."""
    if not present(value):
        return []
    if not isinstance(value, list):
        raise errors.invalid(param, f"Invalid array: {param} must be a list")
    if len(value) > MAX_IMAGES:
        raise errors.invalid(param, f"You may only specify up to {MAX_IMAGES} images.")
    return [url(image, f"{param}[{index}]") for index, image in enumerate(value)]


def _product(value: Any, param: str) -> dict[str, Any]:
    """`price_data[product_data]`: a name, and optionally a description and images."""
    product = hash_of(value, param)
    only(product, {"name", "description", "images", "metadata"}, param)
    if not present(product.get("name")):
        raise errors.missing(f"{param}[name]")
    description = product.get("description")
    return {
        "name": string(product["name"], f"{param}[name]", 250),
        "description": string(description, f"{param}[description]", 40000)
        if present(description)
        else None,
        "images": _images(product.get("images"), f"{param}[images]"),
    }


def _line_item(item: Any, path: str) -> dict[str, Any]:
    """One `line_items[i]` entry with inline `price_data`."""
    hash_of(item, path)
    only(item, {"price", "price_data", "quantity", "tax_rates"}, path)
    if present(item.get("price")):
        raise errors.no_such("price", str(item["price"]), param=f"{path}[price]")
    if not present(item.get("price_data")):
        raise errors.missing(f"{path}[price_data]")
    price = hash_of(item["price_data"], f"{path}[price_data]")
    only(price, {"currency", "unit_amount", "product_data"}, f"{path}[price_data]")
    for name in ("currency", "unit_amount", "product_data"):
        if not present(price.get(name)):
            raise errors.missing(f"{path}[price_data][{name}]")
    currency = _currency(price["currency"], f"{path}[price_data][currency]")
    amount = integer(price["unit_amount"], f"{path}[price_data][unit_amount]", 0, MAX_AMOUNT)
    product = _product(price["product_data"], f"{path}[price_data][product_data]")
    if not present(item.get("quantity")):
        raise errors.missing(f"{path}[quantity]")
    return {
        **product,
        "currency": currency,
        "unit_amount": amount,
        "quantity": integer(item["quantity"], f"{path}[quantity]", 1, MAX_QUANTITY),
        "tax_rate_ids": _tax_rate_ids(item.get("tax_rates"), f"{path}[tax_rates]"),
    }


def _tax_rate_ids(value: Any, param: str) -> list[str]:
    """`line_items[i][tax_rates]`: ids of Tax Rates (looked up when the session is stored)."""
    if not present(value):
        return []
    if not isinstance(value, list):
        raise errors.invalid(param, f"Invalid array: {param} must be a list")
    if len(value) > 1:
        raise errors.invalid(param, "The Stripe emulator supports one tax rate per line item.")
    return [string(rate, f"{param}[{index}]", 255) for index, rate in enumerate(value)]


def _discounts(params: dict[str, Any]) -> dict[str, Any] | None:
    """`discounts` (one promotion code or coupon, looked up when the session is stored) and
    `allow_promotion_codes`, which Stripe refuses together."""
    allow = params.get("allow_promotion_codes")
    allowed = present(allow) and allow in ("true", True)
    if present(allow) and allow not in ("true", "false", True, False):
        raise errors.invalid("allow_promotion_codes", f"Invalid boolean: {allow}")
    value = params.get("discounts")
    if not present(value):
        return {"allow": allowed, "promotion_code": None, "coupon": None}
    if allowed:
        raise errors.invalid(
            "discounts",
            "You may only specify one of these parameters: allow_promotion_codes, discounts.",
        )
    if not isinstance(value, list):
        raise errors.invalid("discounts", "Invalid array: discounts must be a list")
    if len(value) > 1:
        raise errors.invalid("discounts", "You may only specify one discount on a session.")
    discount = hash_of(value[0], "discounts[0]")
    only(discount, {"promotion_code", "coupon"}, "discounts[0]")
    promo, coupon = discount.get("promotion_code"), discount.get("coupon")
    if present(promo) == present(coupon):
        raise errors.invalid(
            "discounts[0]", "You must pass exactly one of coupon or promotion_code."
        )
    return {
        "allow": False,
        "promotion_code": string(promo, "discounts[0][promotion_code]", 255) if present(promo)
        else None,
        "coupon": string(coupon, "discounts[0][coupon]", 255) if present(coupon) else None,
    }  # fmt: skip


def _automatic_tax(value: Any) -> bool:
    """`automatic_tax[enabled]`: Stripe Tax, which the emulator has no tax tables for."""
    if not present(value):
        return False
    enabled = hash_of(value, "automatic_tax")
    only(enabled, {"enabled", "liability"}, "automatic_tax")
    if enabled.get("enabled") in ("true", True):
        raise errors.invalid(
            "automatic_tax[enabled]",
            "The Stripe emulator has no tax tables: use tax_rates on the line items, or "
            "Stripe Tax with a real key.",
        )
    return False


def _lines(items: Any) -> list[dict[str, Any]]:
    """All `line_items`, in one currency, within Stripe's total."""
    if not present(items):
        raise errors.missing("line_items")
    if not isinstance(items, list):
        raise errors.invalid("line_items", "Invalid array: line_items must be a list")
    if len(items) > 100:
        raise errors.invalid("line_items", "You may only specify up to 100 line items.")
    lines = [_line_item(item, f"line_items[{i}]") for i, item in enumerate(items)]
    if len({line["currency"] for line in lines}) > 1:
        raise errors.invalid("line_items", "All line items must use the same currency.")
    if sum(line["unit_amount"] * line["quantity"] for line in lines) > MAX_AMOUNT:
        raise errors.ApiError(
            f"The Checkout Session's total amount due must be no more than {MAX_AMOUNT} "
            "in the smallest currency unit.",
            code="amount_too_large",
        )
    return lines


def _expires_at(value: Any, now: int) -> int:
    """`expires_at`: 30 minutes to 24 hours from now (default 24 hours)."""
    if not present(value):
        return now + MAX_EXPIRY
    expires_at = integer(value, "expires_at", 0, 2**31 - 1)
    if expires_at < now + MIN_EXPIRY - EXPIRY_GRACE:
        raise errors.invalid(
            "expires_at",
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
            "creation.",
        )
    if expires_at > now + MAX_EXPIRY:
        raise errors.invalid(
            "expires_at",
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
        )
    return expires_at


def _locale(value: Any) -> str | None:
    """`locale`: one Stripe's Checkout knows; none given: None ("auto")."""
    return choice(value, "locale", LOCALES) if present(value) else None


def _ui_mode(value: Any) -> str:
    """`ui_mode`: Stripe's enum; the emulator serves only its hosted page."""
    if not present(value):
        return "hosted_page"
    mode = choice(value, "ui_mode", UI_MODES)
    if mode != "hosted_page":
        raise errors.invalid(
            "ui_mode",
            f"The Stripe emulator serves only ui_mode=hosted_page, not ui_mode={mode}.",
        )
    return mode


def create_params(params: dict[str, Any], now: int) -> dict[str, Any]:
    """Validate `POST /v1/checkout/sessions`; the clean values for the store."""
    only(
        params,
        {
            "mode", "line_items", "success_url", "cancel_url", "client_reference_id",
            "metadata", "customer_email", "expires_at", "payment_method_types", "expand",
            "ui_mode", "shipping_address_collection", "shipping_options", "discounts",
            "allow_promotion_codes", "automatic_tax", "customer", "saved_payment_method_options",
            "locale",
        },
    )  # fmt: skip
    if not present(params.get("mode")):
        raise errors.missing("mode")
    choice(params["mode"], "mode", ("payment", "setup", "subscription"))
    if params["mode"] != "payment":
        raise errors.invalid("mode", "The Stripe emulator supports only mode=payment.")
    lines = _lines(params.get("line_items"))
    if not present(params.get("success_url")):
        raise errors.missing("success_url")
    email = params.get("customer_email")
    if present(email) and not (isinstance(email, str) and _EMAIL.match(email)):
        raise errors.invalid("customer_email", f"Invalid email address: {email}", "email_invalid")
    customer = optional_string(params, "customer", 255)
    if customer and present(email):
        raise errors.invalid(
            "customer_email",
            "You may only specify one of these parameters: customer, customer_email.",
        )
    save = params.get("saved_payment_method_options")
    save_offered = False
    if present(save):
        options = hash_of(save, "saved_payment_method_options")
        only(options, {"payment_method_save", "allow_redisplay_filters", "payment_method_remove"},
             "saved_payment_method_options")  # fmt: skip
        if present(options.get("payment_method_save")):
            save_offered = choice(options["payment_method_save"],
                                  "saved_payment_method_options[payment_method_save]",
                                  ("disabled", "enabled")) == "enabled"  # fmt: skip
        if save_offered and not customer:
            raise errors.invalid(
                "saved_payment_method_options[payment_method_save]",
                "`payment_method_save` requires a `customer`.",
            )
    methods = params.get("payment_method_types") or ["card"]
    if not isinstance(methods, list) or any(m != "card" for m in methods):
        raise errors.invalid(
            "payment_method_types", "The Stripe emulator supports only the `card` payment method."
        )
    return {
        "lines": lines,
        "currency": lines[0]["currency"],
        "amount_subtotal": sum(line["unit_amount"] * line["quantity"] for line in lines),
        "shipping": shipping.create_params(params, lines[0]["currency"]),
        "discounts": _discounts(params),
        "automatic_tax": _automatic_tax(params.get("automatic_tax")),
        "success_url": url(params["success_url"], "success_url"),
        "cancel_url": url(params["cancel_url"], "cancel_url")
        if present(params.get("cancel_url"))
        else None,
        "client_reference_id": optional_string(params, "client_reference_id", 200),
        "metadata": metadata(params.get("metadata")),
        "customer_email": email if present(email) else None,
        "customer": customer,
        "save_card_offered": save_offered,
        "locale": choice(params["locale"], "locale", LOCALES)
        if present(params.get("locale"))
        else None,
        "expires_at": _expires_at(params.get("expires_at"), now),
        "payment_method_types": methods,
        "ui_mode": _ui_mode(params.get("ui_mode")),
        "expand": expand(params.get("expand"), EXPANDABLE),
    }


def retrieve_params(params: dict[str, Any]) -> list[str]:
    """Validate a retrieve or expire call (only `expand`); the properties to expand."""
    only(params, {"expand"})
    return expand(params.get("expand"), EXPANDABLE)


def line_items_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate `GET /v1/checkout/sessions/{id}/line_items`: a page of the items."""
    only(params, PAGE | {"expand"})
    expand(params.get("expand"), set())  # nothing on a line item is expandable here
    return page(params)


def list_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate `GET /v1/checkout/sessions`: a page, filters and `expand`."""
    only(params, PAGE | {"status", "customer_details", "payment_intent", "created", "expand"})
    status = params.get("status")
    details = params.get("customer_details")
    email = None
    if present(details):
        only(hash_of(details, "customer_details"), {"email"}, "customer_details")
        email = optional_string(details, "email", 800)
        if email is None:
            raise errors.missing("customer_details[email]")
    return {
        **page(params),
        "status": choice(status, "status", STATUSES) if present(status) else None,
        "email": email,
        "payment_intent": optional_string(params, "payment_intent", 255),
        "created": created_range(params.get("created")),
        "expand": [
            name.removeprefix("data.") for name in expand(params.get("expand"), LIST_EXPANDABLE)
        ],
    }
