"""The shop: a one-page Flask store paying through Stripe Checkout.

`create_app` reads as the table of contents of the application.
"""

import importlib
import os
from typing import Any

from dotenv import load_dotenv
from flask import Flask, g
from flask.helpers import get_load_dotenv

from . import connections
from .config import load_config
from .extensions import babel, csrf, db, login_manager, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Every module holding tables, all on the one metadata that migrations compare against.
MODEL_MODULES = (
    "auth.models",
    "catalog.models",
    "cart.models",
    "favourites.models",
    "orders.models",
    "promotions.models",
    "admin.models",
    "notifications.models",
    "payments.models",
    "payments.emulator.models",
    "api.models",
)


class Shop(Flask):
    """The shop's Flask: a request whose first statement finds its pooled connection
    dropped by the server runs again on a fresh one (`connections.retry_first_statement`),
    whether that statement is in a before-request hook (an admin check, an API token) or
    in the view."""

    def preprocess_request(self):
        return connections.retry_first_statement(super().preprocess_request, _forget_connection)

    def dispatch_request(self):
        return connections.retry_first_statement(super().dispatch_request, _forget_connection)


def _forget_connection() -> None:
    """Before a retry: give the dropped connection back and forget a user not loaded."""
    db.session.rollback()
    g.pop("_login_user", None)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application from the environment (and `.env`), plus test overrides."""
    # Tests never pick up a developer's .env; FLASK_SKIP_DOTENV=1 skips it, as for `flask`.
    if not (overrides or {}).get("TESTING") and get_load_dotenv():
        load_dotenv(os.path.join(ROOT, ".env"))
    app = Shop(
        __name__,
        instance_path=os.path.join(ROOT, "instance"),
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(os.environ, app.instance_path, overrides))

    register_extensions(app)
    register_blueprints(app)
    register_payments(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_metrics(app)
    register_error_reporting(app)
    register_deploy(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of `extensions.py` to this app."""
    from . import auth, languages, security
    from .auth import services as auth_services

    for name in MODEL_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=languages.current,
        default_translation_directories=os.path.join(ROOT, "translations"),
    )
    languages.install_template_messages(app)
    login_manager.init_app(app)
    auth.configure_login(login_manager)
    # Made now, so the first login with an unknown email is not slower than the rest.
    auth_services.decoy_hash(app.config["PASSWORD_HASH_METHOD"])
    security.init_app(app)  # rate limits, security headers, hostile-input guards


def register_blueprints(app: Flask) -> None:
    """Mount each area of the shop."""
    from .account.routes import bp as account_bp
    from .admin.routes import bp as admin_bp
    from .api.routes import bp as api_bp
    from .auth.routes import bp as auth_bp
    from .cart.routes import bp as cart_bp
    from .cart.routes import init_guest_carts
    from .catalog.routes import bp as catalog_bp
    from .checkout.routes import bp as checkout_bp
    from .favourites.routes import bp as favourites_bp
    from .health import bp as health_bp
    from .orders.routes import bp as orders_bp
    from .promotions.routes import bp as promotions_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(cart_bp)
    init_guest_carts(app)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(checkout_bp)
    app.register_blueprint(favourites_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(promotions_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    connect_areas()


def connect_areas() -> None:
    """Hand an area what it reads from one built on it, so that imports go one way
    (catalog -> cart -> orders, docs/architecture.md): the shop page's header badge is the
    cart's count, each card's heart is the customer's favourite, a customer's own held
    units (orders' stock holds) count as left to them in the cart, and settlement names a
    code typed on Stripe's page by the shop's own promotions; a visitor's badge counts the
    cart kept in their session."""
    from .cart import routes as cart_routes
    from .cart import services as cart
    from .catalog import routes as catalog_routes
    from .catalog import services as catalog
    from .favourites import services as favourites
    from .orders import settlement, stock
    from .promotions import services as promotions

    catalog.show_badge_with(cart.COUNT_UNITS)
    catalog.mark_favourites_with(favourites.IS_FAVOURITE)
    cart.count_own_holds_with(stock.own_hold)
    settlement.name_codes_with(promotions.code_named)
    catalog_routes.count_visitor_units_with(cart_routes.visitor_units)


def register_payments(app: Flask) -> None:
    """Stripe (or the emulator) and what each area does with its events."""
    from . import api, payments
    from .orders import disputes, refunds, settlement
    from .orders import notices as order_notices

    payments.init_app(app)
    settlement.register(app)
    refunds.register(app)
    disputes.register(app)
    order_notices.register(app)  # the worker's duties and failed-email notes for orders
    api.register(app)  # the worker forgets idempotency keys past their 24 hours


def register_errorhandlers(app: Flask) -> None:
    """Answer errors as a toast fragment for htmx and as a page otherwise."""
    from .errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    """Filters and values every template may use."""
    from .templating import register

    register(app)


def register_commands(app: Flask) -> None:
    """`flask seed`, `flask create-admin`, `flask demo-user`, `flask worker` (payments adds
    its own)."""
    from .cli import register
    from .orders.cli import orders_cli

    register(app)
    app.cli.add_command(orders_cli)


def register_metrics(app: Flask) -> None:
    """`GET /metrics`: the counters the areas keep, and what each reads from its tables."""
    from . import metrics
    from .notifications import outbox
    from .orders import services as orders
    from .orders import stock
    from .payments import activity

    readings = [*orders.readings(), *stock.readings(), *outbox.readings(), *activity.readings()]
    metrics.init_app(app, readings)


def register_error_reporting(app: Flask) -> None:
    """Errors to Sentry when SENTRY_DSN is set; nothing loaded otherwise."""
    from .error_reporting import init_app

    init_app(app)


def register_deploy(app: Flask) -> None:
    """Request ids and logs, static files, and (in production) proxy headers and HSTS."""
    from .deploy import init_app

    init_app(app)
