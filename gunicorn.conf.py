"""Gunicorn settings for the Procfile's web process (`gunicorn --config gunicorn.conf.py`).

Everything a PaaS hands over comes from the environment: PORT and WEB_CONCURRENCY.
"""

import atexit
import glob
import os
import shutil
import sys
import tempfile


def _metrics_directory() -> str | None:
    """Point PROMETHEUS_MULTIPROC_DIR at an empty directory; the one made here, if any.

    Every worker keeps its metrics in files there and a scrape of /metrics, answered by any
    worker, sums them (shop/metrics.py). prometheus_client picks that mode when it is first
    imported, so this runs before the app is loaded (below, `preload_app`). Files left by an
    earlier start would be summed in, so a directory the deployer named is emptied.
    """
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not given:
        made = tempfile.mkdtemp(prefix="shop-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
        return made
    os.makedirs(given, exist_ok=True)
    for stale in glob.glob(os.path.join(given, "*.db")):
        os.remove(stale)
    return None


def _remove_on_exit(directory: str | None) -> None:
    """Remove the directory made here when the master exits, however it exits (a refused
    setting stops it before any server hook runs)."""
    if not directory:
        return
    master = os.getpid()

    def remove() -> None:
        """Forked workers inherit this hook: only the master's own exit acts on it."""
        if os.getpid() == master:
            shutil.rmtree(directory, ignore_errors=True)

    atexit.register(remove)


_remove_on_exit(_metrics_directory())

from shop.config import ConfigError as _ConfigError  # noqa: E402 (after the metrics mode)
from shop.config import log_level as _log_level  # noqa: E402
from shop.config import require_shared_rate_limits as _require_shared_rate_limits  # noqa: E402
from shop.settings import whole_default as _whole_default  # noqa: E402


def _whole_number(name: str) -> int:
    """A positive whole number from the environment (default: shop/settings.py's), or one
    clear line and exit."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return _whole_default(name)
    if not raw.isdigit() or int(raw) < 1:
        sys.exit(f"Configuration error: {name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


bind = f"0.0.0.0:{_whole_number('PORT')}"
workers = _whole_number("WEB_CONCURRENCY")

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


def child_exit(server, worker):
    """A worker is gone: its counters stay in the sums, its live gauges (none yet) leave."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
