"""The emulated Stripe API: one entry point shared by the in-process HTTP client and
the `/emulator/stripe/v1/...` routes, so both answer exactly alike."""

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import parse_qsl

import stripe

from ...config import EMULATOR_API_KEY
from . import endpoints, errors, events, form, idempotency, shapes, store
from .endpoints import Call
from .eventlog import Origin

Answer = tuple[int, dict[str, Any], dict[str, str]]

_ID = r"([^/]+)"
#: (method, path pattern, endpoint). GET endpoints read; POST endpoints write.
ROUTES: list[tuple[str, re.Pattern, Callable]] = [
    (method, re.compile(f"^/v1/{pattern}$"), endpoint)
    for method, pattern, endpoint in [
        ("GET", "checkout/sessions", endpoints.list_sessions),
        ("GET", f"checkout/sessions/{_ID}", endpoints.retrieve_session),
        ("GET", f"checkout/sessions/{_ID}/line_items", endpoints.session_line_items),
        ("GET", f"payment_intents/{_ID}", endpoints.retrieve_intent),
        ("GET", f"charges/{_ID}", endpoints.retrieve_charge),
        ("GET", "refunds", endpoints.list_refunds),
        ("GET", f"refunds/{_ID}", endpoints.retrieve_refund),
        ("GET", "events", endpoints.list_events),
        ("GET", f"events/{_ID}", endpoints.retrieve_event),
        ("GET", f"coupons/{_ID}", endpoints.retrieve_coupon),
        ("GET", "promotion_codes", endpoints.list_promotion_codes),
        ("GET", f"promotion_codes/{_ID}", endpoints.retrieve_promotion_code),
        ("GET", f"tax_rates/{_ID}", endpoints.retrieve_tax_rate),
        ("GET", f"customers/{_ID}", endpoints.retrieve_customer),
        ("GET", f"customers/{_ID}/payment_methods", endpoints.list_customer_payment_methods),
        ("GET", f"payment_methods/{_ID}", endpoints.retrieve_payment_method),
        ("POST", "checkout/sessions", endpoints.create_session),
        ("POST", f"checkout/sessions/{_ID}/expire", endpoints.expire_session),
        ("POST", "refunds", endpoints.create_refund),
        ("POST", "coupons", endpoints.create_coupon),
        ("POST", "promotion_codes", endpoints.create_promotion_code),
        ("POST", f"promotion_codes/{_ID}", endpoints.update_promotion_code),
        ("POST", "tax_rates", endpoints.create_tax_rate),
        ("POST", "customers", endpoints.create_customer),
        ("DELETE", f"customers/{_ID}", endpoints.delete_customer),
        ("POST", f"payment_methods/{_ID}/detach", endpoints.detach_payment_method),
    ]
]


def authenticate(headers: Mapping[str, str], api_keys: Collection[str]) -> None:
    """Accept only one of `api_keys`, as Bearer or as the Basic username (curl -u)."""
    value = headers.get("authorization", "")
    scheme, _, credential = value.partition(" ")
    if scheme.lower() == "basic":
        try:
            credential = base64.b64decode(credential).decode().partition(":")[0]
        except ValueError:
            credential = ""
    elif scheme.lower() != "bearer":
        credential = ""
    credential = credential.strip()
    if not credential:
        raise errors.api_key_missing()
    # Every key is compared, so the time taken does not tell which one nearly matched.
    matches = [hmac.compare_digest(credential.encode(), key.encode()) for key in api_keys]
    if not any(matches):
        raise errors.api_key_invalid(credential)


def http_api_keys(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys the HTTP API answers to; none means it is off (every path 404s).

    Outside production the published development key works, and STRIPE_EMULATOR_API_KEY
    too when set. In production only STRIPE_EMULATOR_API_KEY does, and never the
    published key (config refuses it at start-up; this refuses it again if forced).
    """
    configured = config.get("STRIPE_EMULATOR_API_KEY") or None
    if config.get("PRODUCTION"):
        return (configured,) if configured and configured != EMULATOR_API_KEY else ()
    return tuple(key for key in (EMULATOR_API_KEY, configured) if key)


def _route(method: str, path: str) -> tuple[Callable, tuple[str, ...]]:
    """The endpoint for this method and path, with the ids in the path."""
    for route_method, pattern, endpoint in ROUTES:
        if route_method == method and (match := pattern.match(path)):
            return endpoint, match.groups()
    raise errors.unrecognized_url(method, path)


def _fingerprint(pairs: list[tuple[str, str]]) -> str:
    """What "the same parameters" means for idempotency: the sorted form pairs."""
    return hashlib.sha256(json.dumps(sorted(pairs)).encode()).hexdigest()


def _deliver(call: Call) -> None:
    """After the commit: deliver what the request recorded, then run its later steps."""
    events.deliver_new(call.events)
    for step in call.then:
        events.deliver_new(step())


def _write(call: Call, key: str, request: tuple[str, str, str], execute) -> tuple[int, dict, bool]:
    """Run a deferred write, under the idempotency key if there is one."""
    if not key:
        with store.transaction() as s:
            body = execute(s)
        _deliver(call)
        return 200, body, False
    status, body, replayed = idempotency.run_once(key, *request, execute)
    if not replayed:  # only the request that did the work announces it
        _deliver(call)
    return status, body, replayed


def handle(
    method: str,
    path: str,
    query: str,
    body: str,
    headers: Mapping[str, str],
    api_keys: Collection[str],
) -> Answer:
    """Answer one API request authenticated by one of `api_keys`: (status, JSON, headers)."""
    method = method.upper()
    headers = {name.lower(): value for name, value in headers.items()}
    request_id = shapes.new_id("req_", 14)
    reply = {"Request-Id": request_id, "Stripe-Version": stripe.api_version}
    try:
        authenticate(headers, api_keys)
        pairs = parse_qsl(body if method == "POST" else query, keep_blank_values=True)
        endpoint, ids = _route(method, path)
        key = headers.get("idempotency-key", "").strip()
        call = Call(form.decode(pairs), int(time.time()), Origin(request_id, key or None))
        if method == "GET":
            with store.transaction() as s:
                return 200, endpoint(s, call, *ids), reply
        if len(key) > 255:
            raise errors.invalid("Idempotency-Key", "Idempotency keys can be up to 255 characters.")
        request = (method, path, _fingerprint(pairs))
        if key:
            reply["Idempotency-Key"] = key
            # Replay before validating: a retry must get the first answer even if, say, its
            # `expires_at` has since drifted under the 30-minute minimum.
            if (stored := idempotency.replay(key, *request)) is not None:
                return *stored, {**reply, "Idempotent-Replayed": "true"}
        status, answer, replayed = _write(call, key, request, endpoint(call, *ids))
        if replayed:
            reply["Idempotent-Replayed"] = "true"
        return status, answer, reply
    except errors.ApiError as error:
        return error.status, error.body(), reply
