"""What admins send: the orders list's filters (query string), the shipment, refund,
product and new code forms."""

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional, Regexp

from ..models import ID_MAX, normalise_email
from ..money import parse_amount
from ..orders.models import (
    CARRIER_MAX,
    REFUND_REASONS,
    TRACKING_MAX,
    Fulfilment,
    OrderStatus,
)
from ..orders.refunds import new_key
from ..promotions.services import NewPromotion

#: The dashboard's windows, as the orders list filters by them (paid since...).
PERIODS = {"today": _l("Paid today"), "week": _l("Paid in the last 7 days")}
#: What the list's shipping filter offers.
FULFILMENTS = {Fulfilment.UNFULFILLED: _l("To ship"), Fulfilment.SHIPPED: _l("Shipped")}
QUERY_MAX = 254  # the longest email address
PAGE_MAX = 100_000
_PAGE = re.compile(r"[0-9]{1,6}")
_ORDER_NUMBER = re.compile(r"#?\s*([0-9]{1,10})")
_KEY = re.compile(r"[0-9a-f]{32}")


class InvalidFilter(ValueError):
    """A filter of the orders list is not one the list knows; the message says which."""


@dataclass(frozen=True)
class OrderFilter:
    """Which orders to list: by status, shipping, paid period and search text; one page."""

    status: str = ""
    fulfilment: str = ""
    period: str = ""
    attention: str = ""  # "1": only orders flagged for an admin
    q: str = ""
    page: int = 1

    def args(self, **changes) -> dict[str, str | int]:
        """The query string of this filter (with `changes`): no empty values, no page 1."""
        values = {**asdict(self), **changes}
        if values["page"] == 1:
            del values["page"]
        return {name: value for name, value in values.items() if value}

    @property
    def is_narrowed(self) -> bool:
        """Whether the list shows fewer orders than all of them."""
        return bool(self.status or self.fulfilment or self.period or self.attention or self.q)

    @property
    def order_number(self) -> int | None:
        """The order number the search text names (`12`, `#12`), if it names one."""
        match = _ORDER_NUMBER.fullmatch(self.q)
        number = int(match.group(1)) if match else None
        return number if number is not None and 1 <= number <= ID_MAX else None

    @property
    def email_part(self) -> str:
        """The search text as stored emails spell it (trimmed, lower case)."""
        return normalise_email(self.q)


def _choice(args: Mapping[str, str], name: str, allowed, what: str) -> str:
    """The field's value if it is one of `allowed` (or empty), else a refusal naming them."""
    value = args.get(name, "").strip()
    if value and value not in allowed:
        known = ", ".join(str(choice) for choice in allowed)
        raise InvalidFilter(
            _(
                "“%(value)s” is not a %(what)s; use one of: %(known)s.",
                value=value[:40],
                what=what,
                known=known,
            )
        )
    return value


def order_filter(args: Mapping[str, str]) -> OrderFilter:
    """Read the orders list's query string: known values only, a page from 1 up."""
    raw_page = args.get("page", "").strip() or "1"
    if not _PAGE.fullmatch(raw_page) or not 1 <= int(raw_page) <= PAGE_MAX:
        raise InvalidFilter(
            _("The page must be a whole number from 1 to %(PAGE_MAX)s.", PAGE_MAX=PAGE_MAX)
        )
    q = args.get("q", "").strip()
    if len(q) > QUERY_MAX:
        raise InvalidFilter(_("Search for at most %(QUERY_MAX)s characters.", QUERY_MAX=QUERY_MAX))
    return OrderFilter(
        status=_choice(args, "status", [str(s) for s in OrderStatus], "status"),
        fulfilment=_choice(args, "fulfilment", [str(f) for f in FULFILMENTS], "shipping state"),
        period=_choice(args, "period", list(PERIODS), "period"),
        attention=_choice(args, "attention", ["1"], "flag"),
        q=q,
        page=int(raw_page),
    )


def _strip(value):
    """Forgive spaces pasted around a value."""
    return value.strip() if isinstance(value, str) else value


class ShipmentForm(FlaskForm):
    """Marking an order shipped: carrier and tracking number, both optional."""

    carrier = StringField(
        _l("Carrier"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(
                max=CARRIER_MAX,
                message=_l(
                    _l("Keep the carrier to %(CARRIER_MAX)s characters."), CARRIER_MAX=CARRIER_MAX
                ),
            ),
            Regexp(
                r"^[^\x00-\x1f\x7f]*$",
                message=_l("The carrier holds characters that cannot be shown."),
            ),
        ],
    )
    tracking_number = StringField(
        _l("Tracking number"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(
                max=TRACKING_MAX,
                message=_l(
                    _l("Keep the tracking number to %(TRACKING_MAX)s characters."),
                    TRACKING_MAX=TRACKING_MAX,
                ),
            ),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9 -]*$",
                message=_l("A tracking number has only letters, digits, spaces and dashes."),
            ),
        ],
    )


#: The most units an admin may put on hand (the seed file's ceiling too).
STOCK_MAX = 1_000_000


@dataclass(frozen=True)
class ProductChange:
    """What an admin asked for one product: units on hand (None: not tracked), shown or not."""

    stock: int | None
    active: bool


class InvalidProductChange(ValueError):
    """A field of the product form is not acceptable; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def product_change(form: Mapping[str, str]) -> ProductChange:
    """Read `stock` (whole number from 0, or empty: not tracked) and `active` (`on`/absent)."""
    raw = form.get("stock")
    if raw is None:
        raise InvalidProductChange("stock", _("Send the stock field (empty for not tracked)."))
    raw = raw.strip()
    stock = None
    if raw:
        if not raw.isascii() or not raw.isdigit() or int(raw) > STOCK_MAX:
            raise InvalidProductChange(
                "stock",
                _(
                    "Enter the units on hand as a whole number from 0 to %(STOCK_MAX)s, or leave "
                    "it empty if stock is not tracked.",
                    STOCK_MAX=STOCK_MAX,
                ),
            )
        stock = int(raw)
    active = form.get("active")
    if active not in (None, "on"):
        raise InvalidProductChange("active", _("The shown switch is either on or off."))
    return ProductChange(stock=stock, active=active == "on")


@dataclass(frozen=True)
class RefundAsked:
    """An admin's refund: the amount in minor units (None: all that is left), the reason,
    whether the units go back on the shelf, and the form's key (one refund per form)."""

    amount_cents: int | None
    reason: str
    return_to_stock: bool
    key: str


class InvalidRefund(ValueError):
    """A field of the refund form is not acceptable; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def refund_asked(form: Mapping[str, str], currency: str) -> RefundAsked:
    """Read `amount` (major units as typed) or `full` (on: all that is left, chosen
    explicitly; an empty amount alone refunds nothing), `reason`, `return_to_stock`
    (on/absent) and `key` (the form's own, from the page)."""
    raw = (form.get("amount") or "").strip()
    full = form.get("full") == "on"
    if not raw and not full:
        raise InvalidRefund(
            "amount", _("Type the amount to refund, or choose “Refund everything left”.")
        )
    if raw and full:
        raise InvalidRefund(
            "amount", _("Type an amount or choose “Refund everything left”, not both.")
        )
    amount = None
    if raw:
        try:
            amount = parse_amount(raw, currency)
        except ValueError as error:
            raise InvalidRefund("amount", str(error)) from None
    reason = (form.get("reason") or "").strip()
    if reason and reason not in REFUND_REASONS:
        known = ", ".join(r.replace("_", " ") for r in REFUND_REASONS)
        raise InvalidRefund("reason", _("Choose one of: %(known)s, or none.", known=known))
    key = (form.get("key") or "").strip()
    if not _KEY.fullmatch(key):
        key = new_key()  # a form without one (a script): a refund of its own
    return RefundAsked(amount, reason, form.get("return_to_stock") == "on", key)


class InvalidPromotion(ValueError):
    """A field of the new code form is not acceptable; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


_CODE = re.compile(r"[A-Z0-9-]{3,20}")
_WHOLE = re.compile(r"[0-9]{1,9}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def new_promotion(form: Mapping[str, str], currencies: tuple[str, ...], today) -> NewPromotion:
    """Read `code`, exactly one of `percent_off` (1-100) and `amount_off` (major units, with
    `currency`), and the optional `max_redemptions`, `expires_on` (YYYY-MM-DD, today or
    later; the code works to the end of that day, UTC), `minimum_amount` (major units, with
    `currency`) and `first_order_only` (on/absent)."""
    code = (form.get("code") or "").strip().upper()
    if not _CODE.fullmatch(code):
        raise InvalidPromotion("code", _("A code is 3 to 20 letters, digits or dashes."))
    percent_raw = (form.get("percent_off") or "").strip()
    amount_raw = (form.get("amount_off") or "").strip()
    if bool(percent_raw) == bool(amount_raw):
        raise InvalidPromotion(
            "percent_off", _("Give either a percentage off or an amount off, not both or neither.")
        )
    currency_raw = (form.get("currency") or "").strip().lower()
    minimum_raw = (form.get("minimum_amount") or "").strip()
    currency = None
    if amount_raw or minimum_raw:
        if currency_raw not in currencies:
            offered = " or ".join(code.upper() for code in currencies)
            raise InvalidPromotion(
                "currency", _("Choose the currency of the amount: %(offered)s.", offered=offered)
            )
        currency = currency_raw
    elif currency_raw and currency_raw not in currencies:
        offered = " or ".join(code.upper() for code in currencies)
        raise InvalidPromotion(
            "currency", _("Choose a currency the shop sells in: %(offered)s.", offered=offered)
        )
    percent = None
    if percent_raw:
        if not _WHOLE.fullmatch(percent_raw) or not 1 <= int(percent_raw) <= 100:
            raise InvalidPromotion(
                "percent_off", _("A percentage off is a whole number, 1 to 100.")
            )
        percent = int(percent_raw)
    amount = None
    if amount_raw:
        try:
            amount = parse_amount(amount_raw, currency)
        except ValueError as error:
            raise InvalidPromotion("amount_off", str(error)) from None
    minimum = None
    if minimum_raw:
        try:
            minimum = parse_amount(minimum_raw, currency)
        except ValueError as error:
            raise InvalidPromotion("minimum_amount", str(error)) from None
    limit_raw = (form.get("max_redemptions") or "").strip()
    limit = None
    if limit_raw:
        if not _WHOLE.fullmatch(limit_raw) or int(limit_raw) < 1:
            raise InvalidPromotion(
                "max_redemptions", _("A limit on uses is a whole number from 1, or empty for none.")
            )
        limit = int(limit_raw)
    expires_raw = (form.get("expires_on") or "").strip()
    expires_at = None
    if expires_raw:
        try:
            if not _DATE.fullmatch(expires_raw):
                raise ValueError
            day = date.fromisoformat(expires_raw)
        except ValueError:
            raise InvalidPromotion("expires_on", _("Give the last day as YYYY-MM-DD.")) from None
        if day < today:
            raise InvalidPromotion("expires_on", _("The last day cannot be in the past."))
        expires_at = datetime.combine(day + timedelta(days=1), time.min, UTC)
    first = form.get("first_order_only")
    if first not in (None, "", "on"):
        raise InvalidPromotion("first_order_only", _("First order only is either on or off."))
    return NewPromotion(
        code=code, percent_off=percent, amount_off_cents=amount, currency=currency,
        max_redemptions=limit, expires_at=expires_at, minimum_cents=minimum,
        first_order_only=first == "on",
    )  # fmt: skip
