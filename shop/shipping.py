"""Where the shop ships, and what shipping costs: `SHIP_TO_COUNTRIES`, `SHIPPING_RATES` and
`FREE_SHIPPING_OVER` read and checked once at start-up, and the offers one checkout makes.

Stripe's hosted page collects the address and lets the customer pick one offer; the order
keeps what Stripe collected (`shop.orders.settlement`). A bad value stops start-up with a
line naming the setting, like every other setting.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote

from .money import format_money, parse_amount

#: A country as Stripe's `allowed_countries` takes it: ISO 3166-1 alpha-2, upper case.
_COUNTRY = re.compile(r"[A-Z]{2}")
#: A rate's name: what the admin page and the emails show, capitalised.
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_DAYS = re.compile(r"([0-9]{1,2})(?:-([0-9]{1,2}))?")
_CURRENCY = re.compile(r"[a-z]{3}")
#: Stripe offers at most five shipping options on one session.
MAX_OPTIONS = 5


class ShippingSettingError(ValueError):
    """A shipping setting that cannot be read; the message names the setting."""


@dataclass(frozen=True)
class ShippingRate:
    """One way to ship, priced in one currency: `standard:4.90:eur:3-5`."""

    name: str
    amount_cents: int
    currency: str
    min_days: int
    max_days: int

    @property
    def days(self) -> str:
        """ "3–5 business days", or "2 business days"."""
        span = str(self.min_days)
        if self.max_days != self.min_days:
            span += f"–{self.max_days}"
        return f"{span} business day{'' if span == '1' else 's'}"


@dataclass(frozen=True)
class ShippingOffer:
    """A rate as one checkout offers it: its price for this cart (0 over the free-shipping
    threshold) and the name the customer reads on Stripe's page."""

    rate: ShippingRate
    amount_cents: int
    label: str


def countries(raw: str) -> tuple[str, ...]:
    """`SHIP_TO_COUNTRIES`: `US,DE,FR` -> ("US", "DE", "FR")."""
    found = tuple(dict.fromkeys(part.strip().upper() for part in raw.split(",") if part.strip()))
    bad = [code for code in found if not _COUNTRY.fullmatch(code)]
    if bad or not found:
        raise ShippingSettingError(
            f"SHIP_TO_COUNTRIES must list two-letter country codes (US,DE,...), got {raw!r}"
        )
    return found


def _amount(text: str, currency: str, setting: str, entry: str) -> int:
    """An amount in major units; 0 is allowed (a free rate)."""
    if text.strip() in ("0", "0.00", "0.0"):
        return 0
    try:
        return parse_amount(text, currency)
    except ValueError as error:
        raise ShippingSettingError(f"{setting}: {entry!r}: {error}") from None


def rates(raw: str) -> tuple[ShippingRate, ...]:
    """`SHIPPING_RATES`: `name:amount:currency:days`, comma-separated; days `3-5` or `2`."""
    found: list[ShippingRate] = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        fields = entry.split(":")
        if len(fields) != 4:
            raise ShippingSettingError(
                f"SHIPPING_RATES: {entry!r} is not name:amount:currency:days "
                "(like standard:4.90:eur:3-5)"
            )
        name, amount, currency, days = (field.strip() for field in fields)
        currency = currency.lower()
        days_match = _DAYS.fullmatch(days)
        if not _NAME.fullmatch(name):
            raise ShippingSettingError(f"SHIPPING_RATES: {entry!r}: a name is a-z, 0-9, - or _")
        if not _CURRENCY.fullmatch(currency):
            raise ShippingSettingError(f"SHIPPING_RATES: {entry!r}: the currency is like eur")
        if not days_match:
            raise ShippingSettingError(f"SHIPPING_RATES: {entry!r}: days are like 3-5 or 2")
        low = int(days_match.group(1))
        high = int(days_match.group(2) or low)
        if not 1 <= low <= high:
            raise ShippingSettingError(
                f"SHIPPING_RATES: {entry!r}: days run from at least 1, the lower first"
            )
        rate = ShippingRate(name, _amount(amount, currency, "SHIPPING_RATES", entry),
                            currency, low, high)  # fmt: skip
        if any(r.name == rate.name and r.currency == rate.currency for r in found):
            raise ShippingSettingError(f"SHIPPING_RATES: {name} in {currency} is listed twice")
        found.append(rate)
    for currency in {rate.currency for rate in found}:
        if sum(rate.currency == currency for rate in found) > MAX_OPTIONS:
            raise ShippingSettingError(
                f"SHIPPING_RATES: at most {MAX_OPTIONS} rates per currency (Stripe's limit)"
            )
    return tuple(found)


def free_over(raw: str) -> dict[str, int]:
    """`FREE_SHIPPING_OVER`: `50.00:eur,60.00:usd` -> {"eur": 5000, "usd": 6000}."""
    found: dict[str, int] = {}
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        amount, _, currency = entry.partition(":")
        currency = currency.strip().lower()
        if not _CURRENCY.fullmatch(currency):
            raise ShippingSettingError(
                f"FREE_SHIPPING_OVER: {entry!r} is not amount:currency (like 50.00:eur)"
            )
        found[currency] = _amount(amount, currency, "FREE_SHIPPING_OVER", entry)
    return found


def offers(
    all_rates: tuple[ShippingRate, ...], thresholds: dict[str, int], currency: str, subtotal: int
) -> tuple[ShippingOffer, ...]:
    """The rates a cart of `subtotal` in `currency` is offered, cheapest first. At or over
    the currency's free-shipping threshold the cheapest rate costs nothing."""
    mine = sorted(
        (rate for rate in all_rates if rate.currency == currency),
        key=lambda rate: (rate.amount_cents, rate.name),
    )
    threshold = thresholds.get(currency)
    free = threshold is not None and subtotal >= threshold
    made = []
    for index, rate in enumerate(mine):
        amount = 0 if free and index == 0 else rate.amount_cents
        label = f"{rate.name.replace('_', ' ').replace('-', ' ').capitalize()} ({rate.days})"
        if free and index == 0 and rate.amount_cents:
            label += f", free over {format_money(threshold, currency)}"
        made.append(ShippingOffer(rate, amount, label))
    return tuple(made)


#: Names of the countries a shop like this one ships to most; others show their code.
COUNTRY_NAMES = {
    "AT": "Austria", "BE": "Belgium", "CA": "Canada", "CH": "Switzerland", "DE": "Germany",
    "DK": "Denmark", "ES": "Spain", "FI": "Finland", "FR": "France", "GB": "United Kingdom",
    "IE": "Ireland", "IT": "Italy", "LU": "Luxembourg", "NL": "Netherlands", "NO": "Norway",
    "PL": "Poland", "PT": "Portugal", "SE": "Sweden", "US": "United States",
}  # fmt: skip

#: Carriers whose tracking page takes the number in its address (matched case-insensitively
#: on the carrier name the admin typed).
TRACKING_PAGES = {
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id={}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "postnl": "https://jouw.postnl.nl/track-and-trace/{}",
    "royal mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "ups": "https://www.ups.com/track?tracknum={}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
    "la poste": "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
}


def country_name(code: str) -> str:
    """ "DE" -> "Germany"; a code without a name here stays as it is."""
    return COUNTRY_NAMES.get(code.upper(), code.upper())


def address_lines(address: dict[str, str] | None) -> list[str]:
    """An address as it is written on a parcel: name, street, postcode and city, country."""
    if not address:
        return []
    town = " ".join(part for part in (address.get("postal_code"), address.get("city")) if part)
    lines = [address.get(key, "") for key in ("name", "line1", "line2")]
    lines += [town, address.get("state", ""), country_name(address.get("country", ""))]
    return [line for line in lines if line]


def tracking_url(carrier: str | None, number: str | None) -> str | None:
    """The carrier's page for a tracking number, where the carrier is one we know."""
    if not carrier or not number:
        return None
    page = TRACKING_PAGES.get(" ".join(carrier.lower().split()))
    return page.format(quote(number.strip(), safe="")) if page else None
