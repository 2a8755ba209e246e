"""Filters and globals shared by every template."""

from flask import Flask, current_app
from flask_login import current_user

from .cart.services import count_units
from .money import format_money


def register(app: Flask) -> None:
    """Install the `money` filter and the values the page header needs."""
    app.add_template_filter(format_money, "money")

    @app.context_processor
    def shop_globals():
        """Values every page shows: the emulator banner and the cart badge."""
        return {
            "stripe_emulator": current_app.config["STRIPE_EMULATOR"],
            "cart_count": cart_count,
        }


def cart_count() -> int:
    """Units in the signed-in user's cart, for the header badge (0 for visitors)."""
    if not current_user.is_authenticated:
        return 0
    return count_units(current_user.id)
