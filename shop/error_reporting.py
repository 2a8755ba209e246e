"""Error reports to Sentry, when `SENTRY_DSN` is set: unhandled exceptions in requests
(sentry-sdk's Flask integration) and error log lines (its logging integration: the
worker's failures, a webhook handler's). Without a DSN nothing of sentry-sdk is imported.

No personal data leaves the shop: no user, cookies or client address
(`send_default_pii=False`), no request bodies (`max_request_body_size="never"`), no
local variables of the failing frames (they hold emails, carts, form fields), no query
strings (search terms, Checkout Session ids), and of the request headers only the few
in `KEPT_HEADERS` (so never Authorization, Cookie, Stripe-Signature or X-CSRFToken).
"""

from typing import Any

from flask import Flask

#: The request headers a report keeps: enough to tell what was asked and by what client,
#: and the request id to find its log lines.
KEPT_HEADERS = frozenset(
    {"host", "user-agent", "accept", "content-type", "content-length", "hx-request", "x-request-id"}
)
#: Parts of a report's request that could carry personal data.
DROPPED_REQUEST_PARTS = ("cookies", "data", "query_string", "env")


def init_app(app: Flask) -> None:
    """Start reporting to the app's SENTRY_DSN; do nothing (import nothing) without one."""
    dsn = app.config["SENTRY_DSN"]
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.logging import ignore_logger

    sentry_sdk.init(
        dsn=dsn,
        integrations=[FlaskIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=scrub,
    )
    # A 500's request log line would report the same failure twice (the exception is one).
    ignore_logger("shop.request")


def scrub(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Strip a report's request down to what says nothing about the person who sent it."""
    request = event.get("request")
    if isinstance(request, dict):
        for part in DROPPED_REQUEST_PARTS:
            request.pop(part, None)
        headers = request.get("headers") or {}
        request["headers"] = {k: v for k, v in headers.items() if k.lower() in KEPT_HEADERS}
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    event.pop("user", None)
    return event
