"""The shop: a one-page Flask store paying through Stripe Checkout.

`create_app` reads as the table of contents of the application.
"""

import os
from typing import Any

from dotenv import load_dotenv
from flask import Flask

from .config import load_config
from .extensions import csrf, db, login_manager, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application from the environment (and `.env`), plus test overrides."""
    if not (overrides or {}).get("TESTING"):
        load_dotenv(os.path.join(ROOT, ".env"))  # tests never pick up a developer's .env
    app = Flask(
        __name__,
        instance_path=os.path.join(ROOT, "instance"),
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(os.environ, app.instance_path, overrides))

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of `extensions.py` to this app."""
    from . import auth, security
    from .auth import services as auth_services

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    auth.configure_login(login_manager)
    # Made now, so the first login with an unknown email is not slower than the rest.
    auth_services.decoy_hash(app.config["PASSWORD_HASH_METHOD"])
    security.init_app(app)  # rate limits, security headers, hostile-input guards


def register_blueprints(app: Flask) -> None:
    """Mount each area of the shop."""
    from .auth.routes import bp as auth_bp
    from .catalog.routes import bp as catalog_bp
    from .health import bp as health_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(health_bp)


def register_errorhandlers(app: Flask) -> None:
    """Answer errors as a toast fragment for htmx and as a page otherwise."""
    from .errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    """Filters and values every template may use."""
    from .templating import register

    register(app)


def register_commands(app: Flask) -> None:
    """`flask seed`, `flask create-admin`, `flask demo-user`."""
    from .cli import register

    register(app)
