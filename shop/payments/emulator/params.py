"""Decoded Stripe parameters in, checked values out: the checks every endpoint shares.

`form.decode` has turned the SDK's `line_items[0][price_data][unit_amount]=1250`
into nested dicts and lists; these helpers validate one value each, raising the
error Stripe gives for the same mistake. The endpoints' own checks live in
`session_params` and `payment_params`.
"""

import re
from typing import Any
from urllib.parse import urlsplit

from . import errors

_INTEGER = re.compile(r"^-?\d{1,18}$")
MAX_AMOUNT = 99_999_999  # Stripe's ceiling for an amount in minor units (8 digits)
MAX_LIMIT = 100
#: The operators of a range filter such as `created[gte]=...`.
RANGE_OPERATORS = ("gt", "gte", "lt", "lte")


def only(params: dict[str, Any], allowed: set[str], prefix: str = "") -> None:
    """Refuse any parameter the endpoint does not take."""
    for key in params:
        if key not in allowed:
            raise errors.unknown(f"{prefix}[{key}]" if prefix else key)


def present(value: Any) -> bool:
    """Stripe reads an empty string as 'not given'."""
    return value is not None and value != ""


def integer(value: Any, param: str, minimum: int, maximum: int) -> int:
    """A whole number in range, or Stripe's integer errors."""
    if not isinstance(value, str) or not _INTEGER.match(value.strip()):
        raise errors.invalid_integer(param, value if isinstance(value, str) else "(hash)")
    number = int(value)
    if number < minimum:
        raise errors.out_of_range(param, minimum=minimum)
    if number > maximum:
        raise errors.out_of_range(param, maximum=maximum)
    return number


def string(value: Any, param: str, max_length: int) -> str:
    """A plain string no longer than `max_length`."""
    if not isinstance(value, str):
        raise errors.invalid(param, f"Invalid string: {param} must be a string")
    if len(value) > max_length:
        raise errors.invalid(
            param, f"Invalid string: {value[:20]}...; must be at most {max_length} characters"
        )
    return value


def optional_string(params: dict[str, Any], name: str, max_length: int = 5000) -> str | None:
    """`params[name]` as a string when given, else None."""
    value = params.get(name)
    return string(value, name, max_length) if present(value) else None


def url(value: Any, param: str) -> str:
    """An absolute http(s) URL."""
    text = string(value, param, 5000)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.invalid(param, "Not a valid URL", code="url_invalid")
    return text


def hash_of(value: Any, param: str) -> dict[str, Any]:
    """A nested hash such as `product_data[...]`."""
    if not isinstance(value, dict):
        raise errors.invalid(param, f"Invalid object: {param} must be a hash")
    return value


def choice(value: Any, param: str, allowed: tuple[str, ...]) -> str:
    """One value of an enum, refused in Stripe's words otherwise."""
    if value not in allowed:
        listed = ", ".join(allowed[:-1]) + f", or {allowed[-1]}" if len(allowed) > 1 else allowed[0]
        raise errors.invalid(param, f"Invalid {param}: must be one of {listed}")
    return value


def expand(value: Any, allowed: set[str]) -> list[str]:
    """The `expand[]` list; only the listed properties can be expanded."""
    if not present(value):
        return []
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        if item not in allowed:
            raise errors.invalid(f"expand[{index}]", f"This property cannot be expanded ({item}).")
    return list(items)


def metadata(value: Any) -> dict[str, str]:
    """Up to 50 string pairs; keys up to 40 characters, values up to 500."""
    if not present(value):
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


def created_range(value: Any, param: str = "created") -> dict[str, int]:
    """`created=<ts>` or `created[gte]=<ts>` (gt, gte, lt, lte): the bounds by operator."""
    if not present(value):
        return {}
    if not isinstance(value, dict):
        return {"eq": integer(value, param, 0, 2**63 - 1)}
    only(value, set(RANGE_OPERATORS), param)
    return {op: integer(bound, f"{param}[{op}]", 0, 2**63 - 1) for op, bound in value.items()}


def page(params: dict[str, Any]) -> dict[str, Any]:
    """`limit` (1-100, default 10) and at most one of `starting_after`/`ending_before`."""
    after, before = params.get("starting_after"), params.get("ending_before")
    if present(after) and present(before):
        raise errors.invalid(
            "starting_after",
            "You may only specify one of these parameters: ending_before, starting_after.",
        )
    return {
        "limit": integer(params["limit"], "limit", 1, MAX_LIMIT)
        if present(params.get("limit"))
        else 10,
        "starting_after": string(after, "starting_after", 255) if present(after) else None,
        "ending_before": string(before, "ending_before", 255) if present(before) else None,
    }


#: The parameters `page` reads, for endpoints listing what else they take.
PAGE = {"limit", "starting_after", "ending_before"}
