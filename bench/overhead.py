"""What the layers every request passes through cost: the rate limiter's hook, the request
log and the request metrics.

They run on every request, limited or not, logged or not, so their cost is paid by every
route. Each is timed in isolation, in-process, as the best of several repeats (the least
disturbed by other work on the machine), next to whole requests for scale.
"""

import contextlib
import io
import logging
import timeit

from flask import Flask
from werkzeug.test import EnvironBuilder

from shop import logs, metrics
from shop.extensions import limiter


def _best_us(fn, number: int, repeat: int = 7) -> float:
    """Microseconds per call of `fn`, best of `repeat` runs of `number` calls."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def costs(app: Flask, client, page_path: str = "/") -> dict[str, float]:
    """Microseconds per request: the limiter's before-request hook, the request metrics,
    the request log middleware (with its line written, as at LOG_LEVEL=INFO), and whole
    requests for scale."""
    found = {}
    with app.test_request_context(page_path):
        # The hook Flask-Limiter runs before every view (no limit applies to this route).
        found["rate limiter hook"] = _best_us(limiter._check_request_limit, 2000)
        environ = EnvironBuilder(path=page_path).get_environ()

        def measured() -> None:
            """The metrics' teardown noting the endpoint, then the histogram's observation."""
            metrics.note_endpoint()
            metrics.observe_request(environ, 200, 0.005)

        # In this process counters live in memory; under gunicorn each observation also
        # writes to the workers' shared files (about 1.3 µs more, measured apart).
        found["request metrics"] = _best_us(measured, 2000)

    environ = EnvironBuilder(path=page_path).get_environ()
    middleware = logs.RequestLogMiddleware(lambda env, start: start("200 OK", []) or [b""])
    shop_logger = logging.getLogger(app.name)
    level = shop_logger.level
    shop_logger.setLevel(logging.INFO)
    try:
        with contextlib.redirect_stdout(io.StringIO()) as sink:

            def logged_request():
                """One pass through the middleware, its line written to memory."""
                middleware(dict(environ), lambda status, headers, exc_info=None: None)
                sink.seek(0)
                sink.truncate()

            found["request id + log line"] = _best_us(logged_request, 2000)
    finally:
        shop_logger.setLevel(level)

    for name, path, headers in (
        ("whole GET / (in-process)", page_path, {}),
        ("whole GET /healthz (in-process)", "/healthz", {}),
    ):
        found[name] = _best_us(lambda p=path, h=headers: client.get(p, headers=h), 50, 5)
    return found
