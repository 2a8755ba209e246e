"""WSGI entry point: `gunicorn wsgi:app`, and what `flask` finds by default."""

from shop import create_app
from shop.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # One line naming the variable, not a traceback: gunicorn (with preload_app) and
    # `flask` both exit non-zero with it.
    raise SystemExit(f"Configuration error: {error}") from None
