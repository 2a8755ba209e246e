"""Stripe's events: verify a webhook delivery, record each event once, dispatch it typed.

Areas register what they do with an event when the app is built (`create_app`), never as a
side effect of importing a module:

    payments.on(app, "checkout.session.completed", fulfil_paid_session)

A handler gets a typed shop event (`shop.payments.types`), never Stripe's dict. `handle`
inserts the event id and runs the handlers in one transaction: a handler may commit (which
records the event with its work); if it raises, everything rolls back, the event stays
unrecorded and Stripe is told 500 so it retries (a `webhook_failures` row says so, for the
admin's health panel). An event whose object is malformed is answered 400 with nothing
recorded. The webhook route and `flask payments reconcile` both go through `handle`, so an
event is applied once whichever path brings it first; each event records which (`via`).
Every delivery's result is counted in `shop_webhook_events_total`.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .. import metrics
from ..extensions import db
from . import translate
from .models import StripeEvent, WebhookFailure
from .types import PaymentEvent

#: Stripe's default: signatures older than five minutes are refused (replay protection).
TOLERANCE = 300
#: Stripe's events are a few KB; anything this large is not one.
MAX_BODY_BYTES = 256 * 1024
#: Where each app keeps its handlers.
EXTENSION = "payments.handlers"
#: How a delivery ended, as `shop_webhook_events_total` counts it.
HANDLED, IGNORED, DUPLICATE = "handled", "ignored", "duplicate"
REJECTED, FAILED = "rejected", "failed"
#: The type label of a delivery refused before its signature was verified.
UNVERIFIED = "unverified"

Handler = Callable[[PaymentEvent], None]


def init_app(app: Flask) -> None:
    """Give the app an empty handler table."""
    app.extensions[EXTENSION] = {}


def on(app: Flask, event_type: str, handler: Handler) -> None:
    """Run `handler(event)` for every event of `event_type` this app receives."""
    handlers = app.extensions[EXTENSION].setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def handlers_for(event_type: str) -> list[Handler]:
    """The current app's handlers for an event type (empty if none)."""
    return list(current_app.extensions[EXTENSION].get(event_type, ()))


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
    if not is_event(event):
        raise ValueError("not a Stripe event")
    return event


def is_event(event: Any) -> bool:
    """Whether `event` has the envelope of a Stripe event (id, type, data.object)."""
    return (
        isinstance(event, dict)
        and event.get("object") == "event"
        and translate.is_stripe_id(event.get("id"))
        and translate.is_stripe_id(event.get("type"))
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )


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
        # Its type is whatever the sender wrote: not a label (unbounded, and unverified).
        _count("webhook", UNVERIFIED, REJECTED)
        return Outcome(400, f"invalid webhook: {error}")
    return handle(event, via="webhook")


def _count(via: str, event_type: str, result: str) -> None:
    """Count a webhook delivery's result (reconcile prints its own)."""
    if via == "webhook":
        metrics.WEBHOOK_EVENTS.labels(type=event_type, result=result).inc()


def already_recorded(event_id: str) -> bool:
    """Whether the shop has handled this event already."""
    return db.session.scalar(select(StripeEvent.id).where(StripeEvent.id == event_id)) is not None


def handle(data: dict[str, Any], via: str) -> Outcome:
    """Record a verified event once and run its handlers, all in one transaction."""
    event_id, event_type = data["id"], data["type"]
    try:
        typed = translate.event(data, via)
    except translate.Malformed as error:
        current_app.logger.warning("%s %s (%s) refused: %s", via, event_id, event_type, error)
        _count(via, event_type, REJECTED)
        return Outcome(400, f"invalid webhook: {error}")
    if already_recorded(event_id):
        _count(via, event_type, DUPLICATE)
        return Outcome(200, "duplicate event ignored")
    try:
        # Lock: stripe_events' primary key; a duplicate's insert waits for the first, then fails.
        db.session.add(StripeEvent(id=event_id, type=event_type, via=via))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        _count(via, event_type, DUPLICATE)
        return Outcome(200, "duplicate event ignored")
    handlers = handlers_for(event_type)
    if not handlers:
        current_app.logger.info("%s %s: no handler for %s", via, event_id, event_type)
    try:
        for fn in handlers:
            fn(typed)
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception(
            "%s %s (%s) failed; Stripe will retry", via, event_id, event_type
        )
        _count(via, event_type, FAILED)
        if via == "webhook":
            _record_failure(event_id, event_type)
        return Outcome(500, "handler failed; retry later")
    _count(via, event_type, HANDLED if handlers else IGNORED)
    return Outcome(200, "handled" if handlers else "ignored")


def _record_failure(event_id: str, event_type: str) -> None:
    """Write down a delivery whose handling failed (its work was rolled back), for the
    admin's health panel; if even that fails (the database is away), the log line above
    and the metric are all there is."""
    try:
        db.session.add(WebhookFailure(event_id=event_id, event_type=event_type))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("webhook %s: could not record the failure", event_id)
