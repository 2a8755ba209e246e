"""Stripe webhooks: verify, record once, dispatch to the handlers other areas register.

    @webhooks.handler("checkout.session.completed")
    def fulfil(event: dict) -> None: ...

`receive` inserts the event id and runs the handlers in one transaction: a handler
may commit (which records the event with its work); if it raises, everything rolls
back, the event stays unrecorded and Stripe is told 500 so it retries. A handler that
finds the event's object malformed raises `MalformedEvent`: 400, nothing recorded.
"""

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from .models import StripeEvent

#: Stripe's default: signatures older than five minutes are refused (replay protection).
TOLERANCE = 300
#: Stripe's events are a few KB; anything this large is not one.
MAX_BODY_BYTES = 256 * 1024
#: Stripe's ids and event types: printable ASCII, no spaces (and never a NUL, which
#: PostgreSQL refuses in text).
STRIPE_ID = re.compile(r"[\x21-\x7e]{1,255}")

Handler = Callable[[dict[str, Any]], None]
_handlers: dict[str, list[Handler]] = {}


def handler(event_type: str) -> Callable[[Handler], Handler]:
    """Register `fn(event: dict) -> None` for events of `event_type`."""

    def register(fn: Handler) -> Handler:
        """Add `fn` once to the handlers of this type."""
        handlers = _handlers.setdefault(event_type, [])
        if fn not in handlers:
            handlers.append(fn)
        return fn

    return register


class MalformedEvent(ValueError):
    """A verified event whose object is not what its type promises (answered 400)."""


def is_stripe_id(value: Any) -> bool:
    """Whether `value` looks like a Stripe id (a string of printable ASCII, at most 255)."""
    return isinstance(value, str) and STRIPE_ID.fullmatch(value) is not None


def handlers_for(event_type: str) -> list[Handler]:
    """The handlers registered for an event type (empty if none)."""
    return list(_handlers.get(event_type, ()))


@dataclass(frozen=True)
class Outcome:
    """What the endpoint answers: HTTP status and a short JSON-able message."""

    status: int
    message: str


def _parse(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """Verify the signature on the raw body and return the event; ValueError if not."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, TOLERANCE)
        _refuse_future_timestamp(signature)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise ValueError(str(error).splitlines()[0] if str(error) else "invalid") from None
    if not (
        isinstance(event, dict)
        and event.get("object") == "event"
        and is_stripe_id(event.get("id"))
        and is_stripe_id(event.get("type"))
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise ValueError("not a Stripe event")
    return event


def _refuse_future_timestamp(signature: str) -> None:
    """Refuse a signature dated more than TOLERANCE ahead (the SDK checks only the past).

    Stripe signs with the current time; a far-future date would let a captured delivery
    be replayed long after the replay window meant to stop it.
    """
    # The first `t` is the one the SDK verified the signature with.
    signed_at = next(i[1] for i in (p.split("=", 2) for p in signature.split(",")) if i[0] == "t")
    if int(signed_at) > time.time() + TOLERANCE:
        raise ValueError("Timestamp is too far in the future")


def receive(payload: bytes, signature: str | None, secret: str) -> Outcome:
    """Handle one delivery: 400 unverified or malformed, 200 done or duplicate, 500 retry."""
    try:
        event = _parse(payload, signature, secret)
    except ValueError as error:
        current_app.logger.warning("webhook refused: %s", error)
        return Outcome(400, f"invalid webhook: {error}")
    event_id, event_type = event["id"], event["type"]
    if db.session.scalar(select(StripeEvent.id).where(StripeEvent.id == event_id)):
        return Outcome(200, "duplicate event ignored")
    try:
        # Lock: stripe_events' primary key; a duplicate's insert waits for the first, then fails.
        db.session.add(StripeEvent(id=event_id, type=event_type))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return Outcome(200, "duplicate event ignored")
    handlers = handlers_for(event_type)
    if not handlers:
        current_app.logger.info("webhook %s: no handler for %s", event_id, event_type)
    try:
        for fn in handlers:
            fn(event)
        db.session.commit()
    except MalformedEvent as error:
        db.session.rollback()
        current_app.logger.warning("webhook %s (%s) refused: %s", event_id, event_type, error)
        return Outcome(400, f"invalid webhook: {error}")
    except Exception:
        db.session.rollback()
        current_app.logger.exception(
            "webhook %s (%s) failed; Stripe will retry", event_id, event_type
        )
        return Outcome(500, "handler failed; retry later")
    return Outcome(200, "handled" if handlers else "ignored")
