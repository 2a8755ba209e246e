"""Filters and globals shared by every template (areas add their own from their blueprints)."""

from flask import Flask, current_app

from .money import format_money
from .shipping import address_lines, country_name
from .urls import external_url


def register(app: Flask) -> None:
    """Install the `money`, `address_lines` and `country_name` filters, `external_url` and
    the emulator banner flag."""
    app.add_template_filter(format_money, "money")
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
