"""Strict parsing of the cart's form fields: whole numbers in range, or a clear refusal.

Python's int() (behind WTForms' IntegerField) also takes `1_000` and non-ASCII digits and
has no notion of "absent" versus "empty"; the contract wants `2.5`, `1e3`, `abc` and an
empty value refused, and only an absent field to mean the default.
"""

import re
from collections.abc import Mapping

from flask_babel import gettext as _

_WHOLE = re.compile(r"[+-]?[0-9]+")
_DIGITS_MAX = 9  # longer strings are out of any range here; int() never sees a huge one


class InvalidInput(ValueError):
    """A field is missing or malformed; the message says what to enter instead."""


def _whole_number(raw: str) -> int | None:
    """`raw` as an int if it is a plain (signed) whole number, else None."""
    text = raw.strip()
    if not _WHOLE.fullmatch(text):
        return None
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) > _DIGITS_MAX:
        return -(10**_DIGITS_MAX) if text.startswith("-") else 10**_DIGITS_MAX
    return int(text)


def quantity(form: Mapping[str, str], low: int, high: int, default: int | None = None) -> int:
    """The `quantity` field: `default` only when absent; otherwise a whole number in [low, high]."""
    raw = form.get("quantity")
    if raw is None and default is not None:
        return default
    if raw is None or not raw.strip():
        missing = _("The quantity is missing.")
        raise InvalidInput(f"{missing} {_wanted(low, high)}")
    value = _whole_number(raw)
    if value is None:
        typed = _("“%(typed)s” is not a whole number.", typed=raw.strip()[:20])
        raise InvalidInput(f"{typed} {_wanted(low, high)}")
    return in_range(value, low, high)


def _wanted(low: int, high: int) -> str:
    return _("Enter a whole number of items from %(low)d to %(high)d.", low=low, high=high)


def in_range(value: int, low: int, high: int) -> int:
    """A quantity already read as a whole number (the form's, or the JSON API's) kept to
    [low, high]: one rule, the same words for both doors."""
    if not low <= value <= high:
        out_of_range = _("That quantity is out of range.")
        raise InvalidInput(f"{out_of_range} {_wanted(low, high)}")
    return value


def product_id(form: Mapping[str, str]) -> int:
    """The `product_id` field: a positive whole number (whether it exists is the service's call)."""
    raw = form.get("product_id")
    value = _whole_number(raw) if raw is not None else None
    if value is None or value < 1:
        raise InvalidInput(_("Choose a product to add."))
    return value
