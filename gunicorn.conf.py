"""Gunicorn settings for the Procfile's web process (`gunicorn --config gunicorn.conf.py`).

Everything a PaaS hands over comes from the environment: PORT and WEB_CONCURRENCY.
"""

import os
import sys

from shop.config import ConfigError as _ConfigError
from shop.config import log_level as _log_level
from shop.config import require_shared_rate_limits as _require_shared_rate_limits


def _whole_number(name: str, default: int) -> int:
    """A positive whole number from the environment, or one clear line and exit."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        sys.exit(f"Configuration error: {name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


bind = f"0.0.0.0:{_whole_number('PORT', 5000)}"
workers = _whole_number("WEB_CONCURRENCY", 2)

# Create the app once, in the master, before forking: a missing setting then stops the
# master with one line (a worker failing instead would be respawned forever), static
# files are built once, and workers share the loaded code.
preload_app = True

# Logs go to stdout, where the PaaS collects them, as logfmt lines. The app writes the
# access log itself (one line per request with its request id, the client address after
# ProxyFix and the duration; see shop/logs.py), so gunicorn's own access log stays off
# rather than adding a second line per request. Gunicorn's error log (start-up, workers,
# shutdown) goes to stdout in the same format; the app sets up the root logger itself.
# LOG_LEVEL is read as the app reads it; a wrong value is named by the app when it starts.
try:
    loglevel = _log_level(os.environ).lower()
except _ConfigError:
    loglevel = "info"
accesslog = None
logconfig_dict = {
    "root": {"level": "WARNING", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["stdout"], "propagate": False}
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "logfmt",
            "stream": "ext://sys.stdout",
        }
    },
    "formatters": {"logfmt": {"()": "shop.logs.LogfmtFormatter"}},
}

# Graceful shutdown: on SIGTERM workers finish their requests within graceful_timeout,
# below the 30 s most PaaS wait before SIGKILL, and the master exits 0.
graceful_timeout = 20
timeout = 30
keepalive = 5  # the router keeps connections open; don't drop them between requests

# ProxyFix in the app is the one place proxy headers are trusted, so gunicorn trusts none.
forwarded_allow_ips = ""
# The PaaS manages processes with signals; no control socket is needed in a dyno.
control_socket_disable = True


def when_ready(server):
    """After the app loaded (its own settings named first), before any worker starts:
    several workers must share their rate-limit counters (Redis), or say they need not."""
    try:
        _require_shared_rate_limits(os.environ)
    except _ConfigError as error:
        sys.exit(f"Configuration error: {error}")


def post_fork(server, worker):
    """Give each worker its own database connections, never ones inherited from the master."""
    from shop.extensions import db

    with server.app.wsgi().app_context():
        db.engine.dispose(close=False)
