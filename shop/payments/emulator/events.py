"""Webhook delivery: sign an event as Stripe does and POST it to our own endpoint.

Delivery goes through the app's full WSGI stack in-process (the real route, its
signature check and handlers), and each attempt is recorded with the answer. It always
runs after the emulator's transaction has committed, never inside it: the shop's handler
works on the shop's own connection, so nothing it locks can be waiting on the emulator.
With `STRIPE_EMULATOR_WEBHOOKS=0` events are recorded only (`deliver_new` skips them);
`deliver` still sends one when asked (`flask emulator resend`).
"""

import time
from typing import Any

import stripe
from flask import current_app, has_request_context, request, url_for
from sqlalchemy import select
from werkzeug.test import Client

from . import eventlog, shapes, store
from .models import EmulatorDelivery, EmulatorEvent


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header: `t=<ts>,v1=<HMAC-SHA256(secret, "<ts>.<payload>")>`,
    computed by the SDK's own signer (the one the shop verifies against)."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)


def _webhook_target() -> tuple[str, str]:
    """(base URL, path) of our webhook endpoint, on the host of the current request; outside
    one (`flask emulator ...`), on the shop's own address (PUBLIC_URL in production, whose
    host guard refuses any other; http://localhost/ in development and tests)."""
    if has_request_context():
        return request.host_url, url_for("payments.webhook")
    with current_app.test_request_context():
        return request.host_url, url_for("payments.webhook")


def deliver(event_id: str) -> dict[str, Any]:
    """Sign and POST a recorded event to `/stripe/webhook`; record and return the answer."""
    with store.transaction() as s:
        event = s.get(EmulatorEvent, event_id)
        if event is None:
            raise LookupError(f"no such event: {event_id}")
        payload, event_type = event.payload, event.type
    base_url, path = _webhook_target()
    header = sign(payload, current_app.config["STRIPE_WEBHOOK_SECRET"], int(time.time()))
    try:
        response = Client(current_app._get_current_object()).post(
            path,
            base_url=base_url,
            data=payload.encode(),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": header,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        status, answer = response.status_code, response.get_data(as_text=True)[:2000]
    except Exception as error:  # a crashing endpoint is a failed delivery, as at Stripe
        current_app.logger.exception("emulator: delivering %s failed", event_id)
        status, answer = 500, f"{type(error).__name__}: {error}"[:2000]
    with store.transaction() as s:
        s.add(
            EmulatorDelivery(
                event_id=event_id, url=base_url.rstrip("/") + path,
                status_code=status, response_body=answer,
            )
        )  # fmt: skip
    current_app.logger.info("emulator: delivered %s %s -> %s", event_type, event_id, status)
    return {"event_id": event_id, "type": event_type, "status_code": status, "body": answer}


def webhooks_on() -> bool:
    """Whether recorded events are pushed to the endpoint (STRIPE_EMULATOR_WEBHOOKS)."""
    return bool(current_app.config.get("STRIPE_EMULATOR_WEBHOOKS", True))


def deliver_new(event_ids: list[str]) -> list[dict[str, Any]]:
    """Deliver freshly recorded events in order, unless webhooks are off."""
    if not webhooks_on():
        for event_id in event_ids:
            current_app.logger.info("emulator: recorded %s (webhooks off)", event_id)
        return []
    return [deliver(event_id) for event_id in event_ids]


def deliveries(event_id: str) -> list[dict[str, Any]]:
    """Every recorded delivery of an event, oldest first."""
    with store.transaction() as s:
        rows = s.scalars(
            select(EmulatorDelivery)
            .where(EmulatorDelivery.event_id == event_id)
            .order_by(EmulatorDelivery.pk)
        )
        return [{"status_code": row.status_code, "body": row.response_body} for row in rows]


def expire_due(now: int | None = None) -> list[dict[str, Any]]:
    """Expire sessions past `expires_at`, then deliver every event not yet delivered
    (with webhooks off: record the expiries, deliver nothing)."""
    now = int(time.time()) if now is None else now
    with store.transaction() as s:
        due = store.overdue_session_ids(s, now)
    for session_id in due:
        with store.transaction() as s:
            row = store.expire_overdue(s, session_id, now)
            if row is not None:
                eventlog.add_event(s, "checkout.session.expired", shapes.session(row, (), now), now)
    with store.transaction() as s:
        pending = eventlog.undelivered_event_ids(s)
    return deliver_new(pending)
