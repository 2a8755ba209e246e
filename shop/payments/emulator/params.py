"""Decoded Stripe parameters in, checked values out.

`form.decode` has turned the SDK's `line_items[0][price_data][unit_amount]=1250`
into nested dicts and lists; the `*_params` functions validate the subset of
Checkout the shop uses, raising the error Stripe gives for the same mistake.
"""

import re
from typing import Any
from urllib.parse import urlsplit

from . import errors

_INTEGER = re.compile(r"^-?\d{1,18}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[a-z]{3}$")

MAX_AMOUNT = 99_999_999  # Stripe's ceiling for an amount in minor units (8 digits)
MAX_QUANTITY = 999_999
MIN_EXPIRY, MAX_EXPIRY = 30 * 60, 24 * 60 * 60
# The caller computes `now + 30 min` a moment before we read the clock; like Stripe, allow
# for that delay instead of refusing the exact minimum.
EXPIRY_GRACE = 60


def _only(params: dict[str, Any], allowed: set[str], prefix: str = "") -> None:
    """Refuse any parameter the endpoint does not take."""
    for key in params:
        if key not in allowed:
            raise errors.unknown(f"{prefix}[{key}]" if prefix else key)


def _present(value: Any) -> bool:
    """Stripe reads an empty string as 'not given'."""
    return value is not None and value != ""


def _integer(value: Any, param: str, minimum: int, maximum: int) -> int:
    """A whole number in range, or Stripe's integer errors."""
    if not isinstance(value, str) or not _INTEGER.match(value.strip()):
        raise errors.invalid_integer(param, value if isinstance(value, str) else "(hash)")
    number = int(value)
    if number < minimum:
        raise errors.out_of_range(param, minimum=minimum)
    if number > maximum:
        raise errors.out_of_range(param, maximum=maximum)
    return number


def _string(value: Any, param: str, max_length: int) -> str:
    """A plain string no longer than `max_length`."""
    if not isinstance(value, str):
        raise errors.invalid(param, f"Invalid string: {param} must be a string")
    if len(value) > max_length:
        raise errors.invalid(
            param, f"Invalid string: {value[:20]}...; must be at most {max_length} characters"
        )
    return value


def _url(value: Any, param: str) -> str:
    """An absolute http(s) URL."""
    text = _string(value, param, 5000)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.invalid(param, "Not a valid URL", code="url_invalid")
    return text


def _expand(value: Any, allowed: set[str]) -> list[str]:
    """The `expand[]` list; only the listed properties can be expanded."""
    if not _present(value):
        return []
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        if item not in allowed:
            raise errors.invalid(f"expand[{index}]", f"This property cannot be expanded ({item}).")
    return list(items)


def _line_item(item: Any, path: str) -> dict[str, Any]:
    """One `line_items[i]` entry with inline `price_data`."""
    if not isinstance(item, dict):
        raise errors.invalid(path, f"Invalid object: {path} must be a hash")
    _only(item, {"price", "price_data", "quantity"}, path)
    if _present(item.get("price")):
        raise errors.no_such("price", str(item["price"]), param=f"{path}[price]")
    price = item.get("price_data")
    if not _present(price):
        raise errors.missing(f"{path}[price_data]")
    if not isinstance(price, dict):
        raise errors.invalid(f"{path}[price_data]", "Invalid object: price_data must be a hash")
    _only(price, {"currency", "unit_amount", "product_data"}, f"{path}[price_data]")
    for name in ("currency", "unit_amount", "product_data"):
        if not _present(price.get(name)):
            raise errors.missing(f"{path}[price_data][{name}]")
    currency = str(price["currency"]).lower()
    if not _CURRENCY.match(currency):
        raise errors.invalid(f"{path}[price_data][currency]", f"Invalid currency: {currency}.")
    amount = _integer(price["unit_amount"], f"{path}[price_data][unit_amount]", 0, MAX_AMOUNT)
    product = price["product_data"]
    product_path = f"{path}[price_data][product_data]"
    if not isinstance(product, dict):
        raise errors.invalid(product_path, "Invalid object: product_data must be a hash")
    _only(product, {"name", "description"}, product_path)
    if not _present(product.get("name")):
        raise errors.missing(f"{product_path}[name]")
    if not _present(item.get("quantity")):
        raise errors.missing(f"{path}[quantity]")
    return {
        "name": _string(product["name"], f"{product_path}[name]", 250),
        "currency": currency,
        "unit_amount": amount,
        "quantity": _integer(item["quantity"], f"{path}[quantity]", 1, MAX_QUANTITY),
    }


def _metadata(value: Any) -> dict[str, str]:
    """Up to 50 string pairs; keys up to 40 characters, values up to 500."""
    if not _present(value):
        return {}
    if not isinstance(value, dict) or len(value) > 50:
        raise errors.invalid("metadata", "Invalid metadata: must be a hash of up to 50 keys")
    for key, item in value.items():
        if len(key) > 40:
            raise errors.invalid(f"metadata[{key}]", "Metadata keys must be at most 40 characters.")
        if not isinstance(item, str) or len(item) > 500:
            raise errors.invalid(
                f"metadata[{key}]", "Metadata values must be strings of at most 500 characters."
            )
    return {key: item for key, item in value.items() if item != ""}


def create_session_params(params: dict[str, Any], now: int) -> dict[str, Any]:
    """Validate `POST /v1/checkout/sessions`; the clean values for the store."""
    _only(
        params,
        {
            "mode", "line_items", "success_url", "cancel_url", "client_reference_id",
            "metadata", "customer_email", "expires_at", "payment_method_types", "expand",
        },
    )  # fmt: skip
    if not _present(params.get("mode")):
        raise errors.missing("mode")
    if params["mode"] not in ("payment", "setup", "subscription"):
        raise errors.invalid("mode", "Invalid mode: must be one of payment, setup, or subscription")
    if params["mode"] != "payment":
        raise errors.invalid("mode", "The Stripe emulator supports only mode=payment.")
    items = params.get("line_items")
    if not _present(items):
        raise errors.missing("line_items")
    if not isinstance(items, list):
        raise errors.invalid("line_items", "Invalid array: line_items must be a list")
    if len(items) > 100:
        raise errors.invalid("line_items", "You may only specify up to 100 line items.")
    lines = [_line_item(item, f"line_items[{i}]") for i, item in enumerate(items)]
    if len({line["currency"] for line in lines}) > 1:
        raise errors.invalid("line_items", "All line items must use the same currency.")
    total = sum(line["unit_amount"] * line["quantity"] for line in lines)
    if total > MAX_AMOUNT:
        raise errors.ApiError(
            f"The Checkout Session's total amount due must be no more than {MAX_AMOUNT} "
            "in the smallest currency unit.",
            code="amount_too_large",
        )
    if not _present(params.get("success_url")):
        raise errors.missing("success_url")
    email = params.get("customer_email")
    if _present(email) and not (isinstance(email, str) and _EMAIL.match(email)):
        raise errors.invalid("customer_email", f"Invalid email address: {email}", "email_invalid")
    expires_at = now + MAX_EXPIRY
    if _present(params.get("expires_at")):
        expires_at = _integer(params["expires_at"], "expires_at", 0, 2**31 - 1)
        if expires_at < now + MIN_EXPIRY - EXPIRY_GRACE:
            raise errors.invalid(
                "expires_at",
                "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                "Session creation.",
            )
        if expires_at > now + MAX_EXPIRY:
            raise errors.invalid(
                "expires_at",
                "The `expires_at` timestamp must be less than 24 hours from Checkout "
                "Session creation.",
            )
    methods = params.get("payment_method_types") or ["card"]
    if not isinstance(methods, list) or any(m != "card" for m in methods):
        raise errors.invalid(
            "payment_method_types", "The Stripe emulator supports only the `card` payment method."
        )
    reference = params.get("client_reference_id")
    return {
        "lines": lines,
        "currency": lines[0]["currency"],
        "amount_total": total,
        "success_url": _url(params["success_url"], "success_url"),
        "cancel_url": _url(params["cancel_url"], "cancel_url")
        if _present(params.get("cancel_url"))
        else None,
        "client_reference_id": _string(reference, "client_reference_id", 200)
        if _present(reference)
        else None,
        "metadata": _metadata(params.get("metadata")),
        "customer_email": email if _present(email) else None,
        "expires_at": expires_at,
        "payment_method_types": methods,
        "expand": _expand(params.get("expand"), {"line_items"}),
    }


def retrieve_params(params: dict[str, Any]) -> list[str]:
    """Validate a retrieve or expire call (only `expand`); the properties to expand."""
    _only(params, {"expand"})
    return _expand(params.get("expand"), {"line_items"})


def list_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate `GET /v1/checkout/sessions`: `limit`, cursors and the `status` filter."""
    _only(params, {"limit", "starting_after", "ending_before", "status", "expand"})
    status = params.get("status")
    if _present(status) and status not in ("open", "complete", "expired"):
        raise errors.invalid("status", "Invalid status: must be one of open, complete, or expired")
    after, before = params.get("starting_after"), params.get("ending_before")
    if _present(after) and _present(before):
        raise errors.invalid(
            "starting_after",
            "You may only specify one of these parameters: ending_before, starting_after.",
        )
    return {
        "limit": _integer(params["limit"], "limit", 1, 100)
        if _present(params.get("limit"))
        else 10,
        "status": status if _present(status) else None,
        "starting_after": _string(after, "starting_after", 255) if _present(after) else None,
        "ending_before": _string(before, "ending_before", 255) if _present(before) else None,
        "expand": _expand(params.get("expand"), {"data.line_items"}),
    }
