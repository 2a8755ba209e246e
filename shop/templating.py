"""Filters and globals shared by every template (areas add their own from their blueprints)."""

from flask import Flask, current_app

from .money import format_money


def register(app: Flask) -> None:
    """Install the `money` filter and the emulator banner flag."""
    app.add_template_filter(format_money, "money")

    @app.context_processor
    def shop_globals():
        """Values every page shows: whether the emulator banner is on."""
        return {"stripe_emulator": current_app.config["STRIPE_EMULATOR"]}
