"""The one door to Stripe: a `StripeClient` built from settings, and the calls the shop makes.

With `STRIPE_SECRET_KEY` the client talks to api.stripe.com (retries on, bounded
timeouts); without it the same SDK is routed in-process to the emulator. Callers
get plain dicts and only the exceptions below, never stripe's own.

Stripe is a remote system: call it after committing your own writes, not inside an
open write transaction (the emulator, like Stripe, keeps its state apart).
"""

from typing import Any

import stripe
from flask import Flask, current_app

from ..config import EMULATOR_API_KEY
from .emulator.client import EmulatorHTTPClient

#: Connect and read timeouts for real Stripe, in seconds.
TIMEOUT = (5, 20)
#: Real Stripe retries connection errors, 409 and 5xx with the same idempotency key.
MAX_NETWORK_RETRIES = 2


class PaymentsError(Exception):
    """Base of every payments failure; `message` is safe to log."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PaymentsUnavailable(PaymentsError):
    """Stripe could not be reached or answered: network, timeout, 5xx, rate limit, keys."""


class PaymentsRejected(PaymentsError):
    """Stripe refused the request itself (an invalid request or idempotency conflict)."""

    def __init__(
        self, message: str, code: str | None = None, param: str | None = None, http_status=None
    ):
        super().__init__(message)
        self.code = code
        self.param = param
        self.http_status = http_status


class SessionNotFound(PaymentsRejected):
    """No Checkout Session has that id (`resource_missing`)."""


def build_client(app: Flask) -> stripe.StripeClient:
    """A `StripeClient` for this app's settings: real Stripe or the emulator."""
    key = app.config.get("STRIPE_SECRET_KEY")
    if key:
        return stripe.StripeClient(
            key,
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=TIMEOUT),
        )
    # No retries in-process: a retry would only sleep, and tests of outages
    # (`emulator.fail_next`) need the failure to surface.
    return stripe.StripeClient(
        EMULATOR_API_KEY, max_network_retries=0, http_client=EmulatorHTTPClient()
    )


def client() -> stripe.StripeClient:
    """The app's client, built once per app."""
    app = current_app._get_current_object()
    if "stripe_client" not in app.extensions:
        app.extensions["stripe_client"] = build_client(app)
    return app.extensions["stripe_client"]


def _translate(error: stripe.StripeError) -> PaymentsError:
    """Stripe's exception as one of ours, keeping what the caller may act on."""
    message = error.user_message or str(error) or type(error).__name__
    if isinstance(error, stripe.IdempotencyError):
        return PaymentsRejected(message, "idempotency_error", None, error.http_status)
    if isinstance(error, stripe.InvalidRequestError):
        kind = SessionNotFound if error.code == "resource_missing" else PaymentsRejected
        return kind(message, error.code, error.param, error.http_status)
    if isinstance(error, stripe.CardError):
        return PaymentsRejected(message, error.code, error.param, error.http_status)
    return PaymentsUnavailable(message)


def _call(operation, *args, **kwargs) -> Any:
    """Run one SDK call, translating every Stripe failure."""
    try:
        return operation(*args, **kwargs)
    except stripe.StripeError as error:
        current_app.logger.warning("stripe: %s %s", type(error).__name__, error)
        raise _translate(error) from error


def create_checkout_session(params: dict, idempotency_key: str) -> dict:
    """Create a Checkout Session (Stripe's parameter names); the session as a dict."""
    sessions = client().v1.checkout.sessions
    options = {"idempotency_key": idempotency_key}
    return _call(sessions.create, params=params, options=options).to_dict()


def retrieve_checkout_session(session_id: str) -> dict:
    """A Checkout Session (its line items are not expanded: see `checkout_line_items`)."""
    return _call(client().v1.checkout.sessions.retrieve, session_id).to_dict()


def checkout_line_items(session_id: str) -> list[dict]:
    """Every line item of a session, page by page (Stripe gives 10 a page by default, and
    an expanded session only its first page)."""
    page = _call(client().v1.checkout.sessions.line_items.list, session_id, params={"limit": 100})
    return [item.to_dict() for item in _call(lambda: list(page.auto_paging_iter()))]


def list_events(types: list[str], created_gte: int) -> list[dict]:
    """Every event of these types since `created_gte` (Unix time), oldest first."""
    params = {"types": types, "created": {"gte": created_gte}, "limit": 100}
    page = _call(client().v1.events.list, params=params)
    events = [event.to_dict() for event in _call(lambda: list(page.auto_paging_iter()))]
    return events[::-1]  # Stripe lists newest first


def expire_checkout_session(session_id: str) -> dict:
    """Expire an open session; a non-open one raises `PaymentsRejected`."""
    return _call(client().v1.checkout.sessions.expire, session_id).to_dict()


def list_checkout_sessions(**filters: Any) -> list[dict]:
    """One page of sessions, newest first (filters: status, limit, starting_after...)."""
    page = _call(client().v1.checkout.sessions.list, params=filters)
    return [session.to_dict() for session in page.data]


def create_refund(params: dict, idempotency_key: str) -> dict:
    """Create a Refund (Stripe's parameter names); the refund as a dict."""
    options = {"idempotency_key": idempotency_key}
    return _call(client().v1.refunds.create, params=params, options=options).to_dict()


def list_refunds(payment_intent_id: str) -> list[dict]:
    """Every refund of a PaymentIntent, newest first, page by page."""
    params = {"payment_intent": payment_intent_id, "limit": 100}
    page = _call(client().v1.refunds.list, params=params)
    return [refund.to_dict() for refund in _call(lambda: list(page.auto_paging_iter()))]


def create_coupon(params: dict, idempotency_key: str) -> dict:
    """Create a Coupon; the coupon as a dict."""
    options = {"idempotency_key": idempotency_key}
    return _call(client().v1.coupons.create, params=params, options=options).to_dict()


def create_promotion_code(params: dict, idempotency_key: str) -> dict:
    """Create a Promotion Code for a coupon; the code as a dict."""
    options = {"idempotency_key": idempotency_key}
    return _call(client().v1.promotion_codes.create, params=params, options=options).to_dict()


def update_promotion_code(promo_id: str, params: dict) -> dict:
    """Change a Promotion Code (`active`); the code as a dict."""
    return _call(client().v1.promotion_codes.update, promo_id, params=params).to_dict()


def retrieve_promotion_code(promo_id: str) -> dict:
    """A Promotion Code with its coupon expanded."""
    params = {"expand": ["promotion.coupon"]}
    return _call(client().v1.promotion_codes.retrieve, promo_id, params=params).to_dict()


def create_tax_rate(params: dict, idempotency_key: str) -> dict:
    """Create a Tax Rate; the rate as a dict."""
    options = {"idempotency_key": idempotency_key}
    return _call(client().v1.tax_rates.create, params=params, options=options).to_dict()


def create_customer(params: dict, idempotency_key: str) -> dict:
    """Create a Customer; the customer as a dict."""
    options = {"idempotency_key": idempotency_key}
    return _call(client().v1.customers.create, params=params, options=options).to_dict()


def delete_customer(customer_id: str) -> dict:
    """Delete a Customer (Stripe detaches its cards)."""
    return _call(client().v1.customers.delete, customer_id).to_dict()


def list_customer_payment_methods(customer_id: str) -> list[dict]:
    """Every card saved on a Customer, page by page."""
    methods = client().v1.customers.payment_methods
    page = _call(methods.list, customer_id, params={"limit": 100})
    return [pm.to_dict() for pm in _call(lambda: list(page.auto_paging_iter()))]


def retrieve_payment_method(pm_id: str) -> dict:
    """A PaymentMethod."""
    return _call(client().v1.payment_methods.retrieve, pm_id).to_dict()


def detach_payment_method(pm_id: str) -> dict:
    """Detach a PaymentMethod from its Customer."""
    return _call(client().v1.payment_methods.detach, pm_id).to_dict()
