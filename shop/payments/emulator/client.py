"""The `stripe.HTTPClient` that routes the SDK in-process to the emulator.

The SDK builds the request exactly as for api.stripe.com (form encoding, headers,
idempotency key) and parses the answer with its own error classes; only the
transport differs. `fail_next` makes the next requests fail like a Stripe outage.
"""

import json
import threading
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import stripe
from flask import current_app
from requests.structures import CaseInsensitiveDict

from ...config import EMULATOR_API_KEY
from . import api, errors

FAULTS = ("timeout", "api_error")


class _Faults:
    """Failures queued for the next requests of one app (tests of Stripe outages)."""

    def __init__(self) -> None:
        self._queue: deque[str] = deque()
        self._lock = threading.Lock()

    def add(self, kind: str, times: int) -> None:
        """Queue `times` failures of `kind`."""
        with self._lock:
            self._queue.extend([kind] * times)

    def take(self) -> str | None:
        """The failure for this request, if one is queued."""
        with self._lock:
            return self._queue.popleft() if self._queue else None


def _faults() -> _Faults:
    """This app's fault queue (per app, so one test cannot leak into the next)."""
    return current_app.extensions.setdefault("stripe_emulator_faults", _Faults())


def fail_next(kind: str, times: int = 1) -> None:
    """Make the next `times` in-process requests time out or get a Stripe 500."""
    if kind not in FAULTS:
        raise ValueError(f"kind must be one of {', '.join(FAULTS)}, got {kind!r}")
    if times < 1:
        raise ValueError("times must be at least 1")
    _faults().add(kind, times)


class EmulatorHTTPClient(stripe.HTTPClient):
    """Answers the SDK's requests from the emulator instead of the network."""

    name = "shop-emulator"

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None
    ) -> tuple[str, int, dict[str, str]]:
        """Hand the request to the emulated API; (body, status, headers) as the SDK expects."""
        if current_app.config.get("STRIPE_SECRET_KEY"):
            raise RuntimeError("the Stripe emulator never runs when STRIPE_SECRET_KEY is set")
        fault = _faults().take()
        if fault == "timeout":
            raise stripe.APIConnectionError(
                "Request to Stripe timed out (emulated outage).", should_retry=True
            )
        if fault == "api_error":
            body = errors.api_error("An unknown error occurred (emulated outage).").body()
            return json.dumps(body), 500, CaseInsensitiveDict({"Request-Id": "req_emulated_outage"})
        parts = urlsplit(url)  # ids in the path arrive percent-encoded, as on the wire
        if isinstance(post_data, bytes):
            post_data = post_data.decode()
        # The shop's own client always sends the development key (see gateway.build_client):
        # in-process it is the only key, in production too, since no one else can reach here.
        status, body, reply = api.handle(
            method,
            unquote(parts.path),
            parts.query,
            post_data or "",
            dict(headers or {}),
            (EMULATOR_API_KEY,),
        )
        # Headers as `requests` hands them to the SDK: looked up case-insensitively
        # (`last_response.request_id` reads "request-id").
        return json.dumps(body), status, CaseInsensitiveDict(reply)

    def request_stream(self, method, url, headers, post_data=None):
        """Streaming endpoints are not part of what the shop uses."""
        raise NotImplementedError("the Stripe emulator does not stream responses")

    def close(self) -> None:
        """Nothing to release: there is no connection."""
