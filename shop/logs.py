"""Logs as logfmt lines on stdout: one per request, tagged with a request id.

Every line is `key=value` pairs (values quoted and escaped when needed, so a traceback or
a hostile path stays on one line). Log lines written while a request is handled carry
its `request_id`, `method` and `path`. Nothing from the request body or its headers is
ever logged, apart from the `X-Request-ID` the router sends: no form fields, no
Authorization, Cookie or Stripe-Signature.
"""

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.logging import default_handler

#: The environ key holding the current request's id, for code that wants to show it.
ENVIRON_KEY = "shop.request_id"
#: Incoming ids are kept only when they look like ids (Heroku sends a UUID); anything
#: else is replaced, so a client cannot smuggle text into the logs.
VALID_INCOMING_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
#: logfmt values needing quotes: empty, or with spaces, quotes, `=` or control characters.
NEEDS_QUOTES = re.compile(r'[\s"=\\]|[\x00-\x1f\x7f]')

_request_context: ContextVar[dict[str, str] | None] = ContextVar("request_context", default=None)
request_logger = logging.getLogger("shop.request")


#: Terminal colour codes (the development server paints its request lines): dropped, since
#: a logfmt value would carry them as literal `\u001b[36m` text.
ANSI_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def logfmt_value(value: Any) -> str:
    """One logfmt value, without terminal colour codes: bare when safe, else a JSON string
    (escapes quotes and newlines)."""
    text = ANSI_ESCAPES.sub("", value if isinstance(value, str) else str(value))
    if text and not NEEDS_QUOTES.search(text):
        return text
    return json.dumps(text)


class LogfmtFormatter(logging.Formatter):
    """Format a record as one `ts=… level=… logger=… msg=… key=value…` line."""

    def format(self, record: logging.LogRecord) -> str:
        """Base fields, then the request context, then the record's own `fields`."""
        fields: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields.update(_request_context.get() or {})
        fields.update(getattr(record, "fields", {}))
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        return " ".join(f"{key}={logfmt_value(value)}" for key, value in fields.items())


class StdoutHandler(logging.StreamHandler):
    """A handler writing to whatever `sys.stdout` is at the time (gunicorn and tests swap it)."""

    @property
    def stream(self):
        """The current standard output."""
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        """Ignore the stream StreamHandler sets at construction."""


def configure(app: Flask) -> None:
    """Send all logs to stdout as logfmt: the shop's at LOG_LEVEL, libraries' warnings and up."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StdoutHandler):  # installed by an earlier create_app
            root.removeHandler(handler)
    handler = StdoutHandler()
    handler.setFormatter(LogfmtFormatter())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    # The shop's loggers propagate to that handler; Flask then adds no stderr handler.
    logger = logging.getLogger(app.name)
    logger.removeHandler(default_handler)
    logger.setLevel(app.config["LOG_LEVEL"])


def incoming_request_id(value: str | None) -> str | None:
    """The router's `X-Request-ID` when it is a plausible id, else None."""
    if value and VALID_INCOMING_ID.fullmatch(value):
        return value
    return None


#: Told of every answered request: (WSGI environ, status, seconds taken).
Observer = Callable[[dict, int, float], None]


class RequestLogMiddleware:
    """WSGI middleware: give each request an id, echo it, and log one line when answered."""

    def __init__(self, app: Callable, observe: Observer | None = None) -> None:
        """Wrap the WSGI callable `app`; `observe` hears of each request with the line's
        status and duration (the request metrics), so both share one timer."""
        self.app = app
        self.observe = observe

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Tag the request, call the app, then log method, path, status and duration."""
        request_id = incoming_request_id(environ.get("HTTP_X_REQUEST_ID")) or uuid.uuid4().hex
        environ[ENVIRON_KEY] = request_id
        # The path only: query strings may carry search terms or checkout session ids.
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        token = _request_context.set(
            {"request_id": request_id, "method": environ.get("REQUEST_METHOD", ""), "path": path}
        )
        statuses: list[str] = []

        def start_with_id(status: str, headers: list, exc_info=None):
            """Record the status and add the request id to the response headers."""
            statuses.append(status)
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-ID", request_id))
            return start_response(status, headers, exc_info)

        started = time.perf_counter()
        try:
            return self.app(environ, start_with_id)
        finally:
            seconds = time.perf_counter() - started
            status = int(statuses[-1].split(" ", 1)[0]) if statuses else 500
            request_logger.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "request",
                extra={
                    "fields": {
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                        "remote_addr": environ.get("REMOTE_ADDR", ""),
                    }
                },
            )
            if self.observe is not None:
                try:
                    self.observe(environ, status, seconds)
                except Exception:  # counting a request must never fail the request
                    request_logger.exception("request metrics failed")
            _request_context.reset(token)
