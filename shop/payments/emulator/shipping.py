"""Shipping on a Checkout Session: `shipping_address_collection`, inline `shipping_options`
(each becomes a ShippingRate `shr_...`, its id given by the store), and the address and
rate the hosted page collects.

Kept on the session row as one JSON value:
`{"allowed_countries": [...], "options": [rate, ...], "collected": {...} | None}`.
"""

import re
from typing import Any

from flask_babel import gettext, lazy_gettext

from . import errors
from .params import MAX_AMOUNT, choice, hash_of, integer, metadata, only, present, string

#: Stripe takes at most five shipping options on a session.
MAX_OPTIONS = 5
_COUNTRY = re.compile(r"^[A-Z]{2}$")
ESTIMATE_UNITS = ("business_day", "day", "hour", "month", "week")
#: The hosted page's address fields, in the order it shows them.
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "country")
#: What the page fills in, so a plain post of the form pays (a valid address, the first rate).
DEFAULT_ADDRESS = {
    "name": "Jenny Rosen",
    "line1": "1 Test Street",
    "line2": "",
    "city": "Testville",
    "postal_code": "10115",
}


class AddressRefused(ValueError):
    """The page's address or rate cannot be used; the message says why."""


def _countries(value: Any) -> list[str]:
    """`shipping_address_collection[allowed_countries]`: a list of ISO alpha-2 codes."""
    collection = hash_of(value, "shipping_address_collection")
    only(collection, {"allowed_countries"}, "shipping_address_collection")
    param = "shipping_address_collection[allowed_countries]"
    countries = collection.get("allowed_countries")
    if not present(countries):
        raise errors.missing(param)
    if not isinstance(countries, list) or not countries:
        raise errors.invalid(param, f"Invalid array: {param} must be a list")
    for index, code in enumerate(countries):
        if not (isinstance(code, str) and _COUNTRY.match(code)):
            raise errors.invalid(f"{param}[{index}]", f"Invalid {param}[{index}]: must be one of "
                                 "the two-letter country codes Stripe supports")  # fmt: skip
    return list(dict.fromkeys(countries))


def _estimate(value: Any, param: str) -> dict[str, Any] | None:
    """`delivery_estimate[minimum|maximum]`: a unit and a value."""
    if not present(value):
        return None
    estimate = hash_of(value, param)
    only(estimate, {"minimum", "maximum"}, param)
    found = {}
    for bound in ("minimum", "maximum"):
        if present(estimate.get(bound)):
            part = hash_of(estimate[bound], f"{param}[{bound}]")
            only(part, {"unit", "value"}, f"{param}[{bound}]")
            found[bound] = {
                "unit": choice(part.get("unit"), f"{param}[{bound}][unit]", ESTIMATE_UNITS),
                "value": integer(part.get("value"), f"{param}[{bound}][value]", 1, 10_000),
            }
        else:
            found[bound] = None
    return found


def _option(value: Any, param: str, currency: str) -> dict[str, Any]:
    """One `shipping_options[i]` with inline `shipping_rate_data` (a stored `shipping_rate`
    id would be one this emulator never made)."""
    option = hash_of(value, param)
    only(option, {"shipping_rate", "shipping_rate_data"}, param)
    if present(option.get("shipping_rate")):
        raise errors.no_such(
            "shipping rate", str(option["shipping_rate"]), f"{param}[shipping_rate]"
        )
    if not present(option.get("shipping_rate_data")):
        raise errors.missing(f"{param}[shipping_rate_data]")
    path = f"{param}[shipping_rate_data]"
    data = hash_of(option["shipping_rate_data"], path)
    only(data, {"type", "display_name", "fixed_amount", "delivery_estimate", "metadata",
                "tax_behavior", "tax_code"}, path)  # fmt: skip
    if present(data.get("type")):
        choice(data["type"], f"{path}[type]", ("fixed_amount",))
    if not present(data.get("display_name")):
        raise errors.missing(f"{path}[display_name]")
    if not present(data.get("fixed_amount")):
        raise errors.missing(f"{path}[fixed_amount]")
    fixed = hash_of(data["fixed_amount"], f"{path}[fixed_amount]")
    only(fixed, {"amount", "currency", "currency_options"}, f"{path}[fixed_amount]")
    for name in ("amount", "currency"):
        if not present(fixed.get(name)):
            raise errors.missing(f"{path}[fixed_amount][{name}]")
    rate_currency = string(fixed["currency"], f"{path}[fixed_amount][currency]", 3).lower()
    if rate_currency != currency:
        raise errors.invalid(
            f"{path}[fixed_amount][currency]",
            f"The shipping rate's currency ({rate_currency}) must match the Checkout Session's "
            f"currency ({currency}).",
        )
    return {
        "display_name": string(data["display_name"], f"{path}[display_name]", 100),
        "amount": integer(fixed["amount"], f"{path}[fixed_amount][amount]", 0, MAX_AMOUNT),
        "currency": currency,
        "delivery_estimate": _estimate(data.get("delivery_estimate"), f"{path}[delivery_estimate]"),
        "metadata": metadata(data.get("metadata")),
    }


def create_params(params: dict[str, Any], currency: str) -> dict[str, Any] | None:
    """The session's shipping from its create parameters; None when it asks for none."""
    collection, options = params.get("shipping_address_collection"), params.get("shipping_options")
    if not present(collection) and not present(options):
        return None
    rates = []
    if present(options):
        if not isinstance(options, list):
            raise errors.invalid(
                "shipping_options", "Invalid array: shipping_options must be a list"
            )
        if len(options) > MAX_OPTIONS:
            raise errors.invalid(
                "shipping_options", f"You may only specify up to {MAX_OPTIONS} shipping options."
            )
        rates = [_option(o, f"shipping_options[{i}]", currency) for i, o in enumerate(options)]
    return {
        "allowed_countries": _countries(collection) if present(collection) else None,
        "options": rates,
        "collected": None,
    }


def shipping_amount(shipping: dict[str, Any] | None) -> int:
    """What shipping adds to the total: the collected rate, else the first offered (the one
    the page preselects)."""
    rate = selected_rate(shipping)
    return rate["amount"] if rate else 0


def selected_rate(shipping: dict[str, Any] | None) -> dict[str, Any] | None:
    """The rate the customer picked, else the one the page preselects (the first)."""
    if not shipping or not shipping["options"]:
        return None
    collected = shipping.get("collected") or {}
    chosen = collected.get("rate_id")
    return next((r for r in shipping["options"] if r["id"] == chosen), shipping["options"][0])


#: The page's address fields as a refusal names them.
FIELD_NAMES = {
    "name": lazy_gettext("name"),
    "line1": lazy_gettext("address"),
    "city": lazy_gettext("city"),
    "postal_code": lazy_gettext("postal code"),
    "country": lazy_gettext("country"),
}


def collect(shipping: dict[str, Any] | None, form: dict[str, str]) -> dict[str, Any] | None:
    """The hosted page's address and rate, checked; None when the session collects neither.
    `AddressRefused` says what to correct."""
    if not shipping:
        return None
    collected: dict[str, Any] = {"address": None, "rate_id": None}
    countries = shipping["allowed_countries"]
    if countries:
        values = {
            name: (form.get(f"shipping_{name}") or "").strip()[:200] for name in ADDRESS_FIELDS
        }
        values["country"] = values["country"].upper()
        lacking = [name for name in ("name", "line1", "city", "postal_code", "country")
                   if not values[name]]  # fmt: skip
        if lacking:
            missing = ", ".join(str(FIELD_NAMES[name]) for name in lacking)
            raise AddressRefused(gettext("Fill in the shipping address: %(missing)s.",
                                         missing=missing))  # fmt: skip
        if values["country"] not in countries:
            raise AddressRefused(
                gettext(
                    "This shop does not ship to %(country)s; it ships to %(countries)s.",
                    country=values["country"],
                    countries=", ".join(countries),
                )  # fmt: skip
            )
        collected["address"] = values
    if shipping["options"]:
        wanted = form.get("shipping_rate") or shipping["options"][0]["id"]
        if wanted not in {rate["id"] for rate in shipping["options"]}:
            raise AddressRefused(gettext("Choose one of the shipping options offered."))
        collected["rate_id"] = wanted
    return collected


def _rate_object(rate: dict[str, Any], created: int) -> dict[str, Any]:
    """A `shipping_rate` object."""
    return {
        "id": rate["id"],
        "object": "shipping_rate",
        "active": True,
        "created": created,
        "delivery_estimate": rate["delivery_estimate"],
        "display_name": rate["display_name"],
        "fixed_amount": {"amount": rate["amount"], "currency": rate["currency"]},
        "livemode": False,
        "metadata": dict(rate["metadata"]),
        "tax_behavior": "unspecified",
        "tax_code": None,
        "type": "fixed_amount",
    }


def session_fields(shipping: dict[str, Any] | None, complete: bool) -> dict:
    """The session's shipping fields, as Stripe shows them (null and empty when none)."""
    if not shipping:
        return {
            "collected_information": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
        }
    rate = selected_rate(shipping)
    collected = shipping.get("collected") or {}
    address = collected.get("address") if complete else None
    return {
        "collected_information": {
            "business_name": None,
            "individual_name": None,
            "shipping_details": {
                "address": {
                    "city": address["city"],
                    "country": address["country"],
                    "line1": address["line1"],
                    "line2": address["line2"] or None,
                    "postal_code": address["postal_code"],
                    "state": None,
                },
                "name": address["name"],
            }
            if address
            else None,
        }
        if complete
        else None,
        "shipping_address_collection": {"allowed_countries": list(shipping["allowed_countries"])}
        if shipping["allowed_countries"]
        else None,
        "shipping_cost": {
            "amount_subtotal": rate["amount"],
            "amount_tax": 0,
            "amount_total": rate["amount"],
            "shipping_rate": rate["id"],
        }
        if rate
        else None,
        "shipping_options": [
            {"shipping_amount": option["amount"], "shipping_rate": option["id"]}
            for option in shipping["options"]
        ],
    }


def rate_objects(shipping: dict[str, Any] | None, created: int) -> list[dict[str, Any]]:
    """Every rate a session offered, as `shipping_rate` objects."""
    return [_rate_object(rate, created) for rate in (shipping or {}).get("options", [])]
