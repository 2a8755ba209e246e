"""Money display: integer minor units and an ISO currency code to a price label."""

import re
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision
from flask_babel import gettext as _

from . import languages

#: A whole part whose commas group thousands (`1,234`, `12,345,678`), ASCII digits only.
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
#: A comma used as a decimal separator (`0,05`, `12,5`): refused, since the shop reads
#: amounts in English only until the admin's language is known.
_DECIMAL_COMMA = re.compile(r"[0-9]*,[0-9]{1,2}")

# Currencies without a minor unit (Stripe's zero-decimal list, the ones a shop meets).
ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "isk"}


def format_money(cents: int, currency: str, language: str | None = None) -> str:
    """`cents` of `currency` for people, as Babel writes it in the request's language (or
    `language`): 1250, "eur" -> "€12.50" in English, "12,50 €" in German."""
    return _formatted(cents, currency, language or languages.formatting())


@lru_cache(maxsize=4096)
def _formatted(cents: int, currency: str, language: str) -> str:
    """`format_money` once per amount, currency and language: Babel parses the locale's
    pattern on every call (~70 µs), and a page shows the same few prices many times."""
    code = currency.upper()
    digits = 0 if currency.lower() in ZERO_DECIMAL else get_currency_precision(code)
    amount = Decimal(cents).scaleb(-digits)
    return format_currency(amount, code, locale=language)


def parse_amount(text: str, currency: str) -> int:
    """An amount as a person types it (`12.50`, `12`, `1,250.00`) in minor units of
    `currency`; ValueError saying what to type instead.

    A comma is read only where it groups thousands; a decimal comma (`0,05`) is refused
    with the amount written with a point, never read as 5.00."""
    code = currency.lower()
    decimals = 0 if code in ZERO_DECIMAL else 2
    example = "1250" if decimals == 0 else "12.50"
    wanted = _("Enter an amount like %(example)s, more than zero.", example=example)
    whole, point, minor = text.strip().partition(".")
    if "," in whole + minor:
        if decimals and not point and _DECIMAL_COMMA.fullmatch(whole):
            pointed = whole.replace(",", ".")
            raise ValueError(
                f"Use a point for the decimals: {pointed} (a comma only groups thousands)."
            )
        if "," in minor or not _GROUPED.fullmatch(whole):
            raise ValueError(f"{wanted} (A comma only groups thousands, as in 1,250.)")
        whole = whole.replace(",", "")
    if not whole.isascii() or not (whole.isdigit() or (not whole and minor)):
        raise ValueError(wanted)
    if minor and (decimals == 0 or not minor.isascii() or not minor.isdigit() or len(minor) > 2):
        raise ValueError(f"{wanted} ({code.upper()} has {decimals} decimal places.)")
    if len(whole) > 9:
        raise ValueError(wanted)
    cents = int(whole or "0") * 10**decimals + int(minor.ljust(decimals, "0") or "0")
    if cents <= 0:
        raise ValueError(wanted)
    return cents
