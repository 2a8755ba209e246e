"""The emulated Stripe API: one entry point shared by the in-process HTTP client and
the `/emulator/stripe/v1/...` routes, so both answer exactly alike."""

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import stripe
from flask import current_app, has_request_context, url_for
from sqlalchemy.orm import Session

from ...config import EMULATOR_API_KEY
from . import errors, form, params, shapes, store

_SESSIONS = re.compile(r"^/v1/checkout/sessions$")
_SESSION = re.compile(r"^/v1/checkout/sessions/([^/]+)$")
_EXPIRE = re.compile(r"^/v1/checkout/sessions/([^/]+)/expire$")
_LINE_ITEMS = re.compile(r"^/v1/checkout/sessions/([^/]+)/line_items$")

Answer = tuple[int, dict[str, Any], dict[str, str]]


def page_url(session_id: str) -> str:
    """The hosted page of a session, on the host the request came to."""
    if has_request_context():
        return url_for("emulator.checkout_page", session_id=session_id, _external=True)
    with current_app.test_request_context():  # a CLI or test call: the default host
        return url_for("emulator.checkout_page", session_id=session_id, _external=True)


def authenticate(headers: Mapping[str, str]) -> None:
    """Accept only the emulator's key, as Bearer or as the Basic username (curl -u)."""
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
    if not hmac.compare_digest(credential.encode(), EMULATOR_API_KEY.encode()):
        raise errors.api_key_invalid(credential)


def _fingerprint(pairs: list[tuple[str, str]]) -> str:
    """What "the same parameters" means for idempotency: the sorted form pairs."""
    return hashlib.sha256(json.dumps(sorted(pairs)).encode()).hexdigest()


def _create(values: dict[str, Any]) -> Callable[[Session], dict]:
    """Validated create parameters -> the write that stores the session."""
    now = int(time.time())
    checked = params.create_session_params(values, now)

    def execute(s: Session) -> dict:
        row = store.create_session(s, checked, page_url, now)
        return shapes.session(row, checked["expand"], now)

    return execute


def _expire(session_id: str, values: dict[str, Any]) -> Callable[[Session], dict]:
    """Validated expire parameters -> the write that expires the session."""
    expand = params.retrieve_params(values)

    def execute(s: Session) -> dict:
        now = int(time.time())
        row = store.expire_session(s, session_id, now)
        body = shapes.session(row, expand, now)
        # Stripe announces a manual expiry too; it is recorded here and delivered by
        # `flask emulator expire-due` (never inside the caller's own request).
        store.add_event(s, "checkout.session.expired", shapes.session(row, (), now), now)
        return body

    return execute


def _read(path: str, values: dict[str, Any]) -> dict:
    """The GET endpoints: retrieve, list, and a session's line items."""
    now = int(time.time())
    with store.transaction() as s:
        if match := _SESSION.match(path):
            row = store.get_session(s, match.group(1))
            return shapes.session(row, params.retrieve_params(values), now)
        if match := _LINE_ITEMS.match(path):
            params.retrieve_params({k: v for k, v in values.items() if k != "limit"})
            return shapes.line_items(store.get_session(s, match.group(1)))
        query = params.list_params(values)
        rows, has_more = store.list_sessions(s, query, now)
        expand = ["line_items"] if query["expand"] else []
        return {
            "object": "list",
            "data": [shapes.session(row, expand, now) for row in rows],
            "has_more": has_more,
            "url": "/v1/checkout/sessions",
        }


def _write(path: str, values: dict[str, Any]) -> Callable[[Session], dict]:
    """The POST endpoints as deferred writes (validated now, executed under a key)."""
    if match := _EXPIRE.match(path):
        return _expire(match.group(1), values)
    return _create(values)


def handle(method: str, path: str, query: str, body: str, headers: Mapping[str, str]) -> Answer:
    """Answer one API request: (status, JSON body, response headers)."""
    method = method.upper()
    headers = {name.lower(): value for name, value in headers.items()}
    reply = {"Request-Id": shapes.new_id("req_", 14), "Stripe-Version": stripe.api_version}
    try:
        authenticate(headers)
        pairs = parse_qsl(body if method == "POST" else query, keep_blank_values=True)
        values = form.decode(pairs)
        if method == "GET" and (
            _SESSIONS.match(path) or _SESSION.match(path) or _LINE_ITEMS.match(path)
        ):
            return 200, _read(path, values), reply
        if method != "POST" or not (_SESSIONS.match(path) or _EXPIRE.match(path)):
            raise errors.unrecognized_url(method, path)
        key = headers.get("idempotency-key", "").strip()
        if len(key) > 255:
            raise errors.invalid("Idempotency-Key", "Idempotency keys can be up to 255 characters.")
        if not key:
            with store.transaction() as s:
                return 200, _write(path, values)(s), reply
        reply["Idempotency-Key"] = key
        # Replay before validating: a retry must get the first answer even if, say, its
        # `expires_at` has since drifted under the 30-minute minimum.
        fingerprint = _fingerprint(pairs)
        if (stored := store.replay(key, method, path, fingerprint)) is not None:
            return *stored, {**reply, "Idempotent-Replayed": "true"}
        execute = _write(path, values)
        status, answer, replayed = store.run_once(key, method, path, fingerprint, execute)
        if replayed:
            reply["Idempotent-Replayed"] = "true"
        return status, answer, reply
    except errors.ApiError as error:
        return error.status, error.body(), reply
