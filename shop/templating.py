"""Filters and globals shared by every template (areas add their own from their blueprints)."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Flask, current_app
from markupsafe import Markup, escape

from . import currencies, languages
from .money import format_money
from .shipping import address_lines, country_name
from .urls import external_url

#: A number and the unit after it ("250 g", "0.9 L", "38 mm"): one word for line breaking.
_QUANTITY = re.compile(r"(\d)[ ]+(g|kg|mg|ml|cl|l|L|mm|cm|m|oz|lb)\b")


def keep_units(text: str) -> str:
    """`text` with a no-break space between each number and its unit, so "250 g" never
    leaves its "g" alone at the start of a line."""
    return _QUANTITY.sub("\\1\u00a0\\2", text)


#: How a moment reads in each language, before the zone: "06 Dec 2026, 19:19",
#: "06.12.2026, 19:19".
TIME_PATTERNS = {"en": "dd MMM y, HH:mm", "de": "dd.MM.y, HH:mm"}


def shop_time(moment: datetime, seconds: bool = False) -> str:
    """`moment` in the shop's time zone (SHOP_TIME_ZONE), the zone named: "06 Dec 2026,
    19:19 PST". Pages mark it up with `<time data-local>` for shop.js to show the reader's
    own zone instead."""
    local = moment.astimezone(ZoneInfo(current_app.config["SHOP_TIME_ZONE"]))
    language = languages.formatting()
    pattern = TIME_PATTERNS.get(language, TIME_PATTERNS["en"]) + (":ss" if seconds else "")
    return f"{format_datetime(local, pattern, locale=language)} {local:%Z}"


def when(moment: datetime, seconds: bool = False) -> Markup:
    """A moment as pages show it: `<time data-local>` in the shop's zone, named, for readers
    without JS; shop.js rewrites it in the reader's own zone (the shop's as its title). A
    global, not a macro: htmx answers render blocks alone, without a template's imports."""
    flag = " data-seconds" if seconds else ""
    return Markup(
        f'<time datetime="{escape(moment.isoformat())}" data-local{flag}>'
        f"{escape(shop_time(moment, seconds))}</time>"
    )


def register(app: Flask) -> None:
    """Install the `money`, `keep_units`, `shop_time`, `address_lines` and `country_name`
    filters, the `external_url`, `when`, `shop_currency` and `offered_currencies` globals
    and the emulator banner flag."""
    app.add_template_filter(format_money, "money")
    app.add_template_filter(keep_units, "keep_units")
    app.add_template_filter(shop_time, "shop_time")
    app.add_template_filter(address_lines, "address_lines")
    app.add_template_filter(country_name, "country_name")
    app.add_template_global(external_url)
    app.add_template_global(when)
    app.add_template_global(currencies.current, "shop_currency")
    app.add_template_global(currencies.offered, "offered_currencies")
    app.add_template_global(languages.current, "shop_language")
    app.add_template_global(lambda: languages.NAMES, "offered_languages")

    @app.context_processor
    def shop_globals():
        """Values every page shows: whether the emulator banner is on, and the footer's
        contact (SUPPORT_EMAIL, SHOP_ADDRESS)."""
        config = current_app.config
        return {
            "stripe_emulator": config["STRIPE_EMULATOR"],
            "support_email": config["SUPPORT_EMAIL"],
            "shop_address": config["SHOP_ADDRESS"],
        }
