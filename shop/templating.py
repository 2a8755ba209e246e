"""Filters and globals shared by every template (areas add their own from their blueprints)."""

import re

from flask import Flask, current_app

from .money import format_money
from .shipping import address_lines, country_name
from .urls import external_url

#: A number and the unit after it ("250 g", "0.9 L", "38 mm"): one word for line breaking.
_QUANTITY = re.compile(r"(\d)[ ]+(g|kg|mg|ml|cl|l|L|mm|cm|m|oz|lb)\b")


def keep_units(text: str) -> str:
    """`text` with a no-break space between each number and its unit, so "250 g" never
    leaves its "g" alone at the start of a line."""
    return _QUANTITY.sub("\\1\u00a0\\2", text)


def register(app: Flask) -> None:
    """Install the `money`, `keep_units`, `address_lines` and `country_name` filters,
    `external_url` and the emulator banner flag."""
    app.add_template_filter(format_money, "money")
    app.add_template_filter(keep_units, "keep_units")
    app.add_template_filter(address_lines, "address_lines")
    app.add_template_filter(country_name, "country_name")
    app.add_template_global(external_url)

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
