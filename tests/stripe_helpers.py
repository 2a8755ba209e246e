"""Helpers for tests of the payments layer: session parameters, signing, fixtures."""

import hashlib
import hmac
import json
import time
from pathlib import Path

import stripe

from shop import payments
from shop.config import EMULATOR_WEBHOOK_SECRET
from shop.payments import webhooks

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
EVENT_FIXTURES = [
    "checkout.session.completed.json",
    "checkout.session.completed.unpaid.json",
    "checkout.session.async_payment_succeeded.json",
    "checkout.session.async_payment_failed.json",
    "checkout.session.expired.json",
    "event.json",
]


def session_params(**overrides) -> dict:
    """Checkout Session parameters as the shop sends them (Stripe's names)."""
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 1250,
                    "product_data": {"name": "House Espresso 250 g"},
                },
                "quantity": 2,
            },
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 3400,
                    "product_data": {"name": "Pour-over kettle"},
                },
                "quantity": 1,
            },
        ],
        "success_url": "http://localhost/checkout/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://localhost/checkout/cancel",
        "client_reference_id": "42",
        "metadata": {"order_id": "1001"},
        "customer_email": "ada@example.com",
        "expires_at": int(time.time()) + 30 * 60,
    }
    params.update(overrides)
    return params


def line(unit_amount="1250", quantity="1", name="Beans", currency="usd") -> dict:
    """One line item with inline price data; values as the caller chooses."""
    return {
        "price_data": {
            "currency": currency,
            "unit_amount": unit_amount,
            "product_data": {"name": name},
        },
        "quantity": quantity,
    }


def load_event(name: str, **object_changes) -> dict:
    """A Stripe event fixture, with changes to its `data.object`."""
    event = json.loads((FIXTURES / name).read_text())
    event["data"]["object"].update(object_changes)
    return event


def signed(payload: str, secret: str = EMULATOR_WEBHOOK_SECRET, timestamp=None) -> dict:
    """Headers for a webhook POST signed as Stripe signs it (the SDK's own signer)."""
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def signed_event(event: dict, secret: str = EMULATOR_WEBHOOK_SECRET, timestamp=None):
    """The raw body and headers Stripe would send for `event`: (bytes, headers)."""
    payload = json.dumps(event)
    return payload.encode(), signed(payload, secret, timestamp)


def v1_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Just the `v1` digest of `body` at `timestamp`, for hand-made (hostile) headers; over
    raw bytes, so a body that is not even UTF-8 can be signed too."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def handle_only(app, handlers: dict) -> None:
    """Make `app` do exactly this with Stripe's events: {event type: [handler, ...]}."""
    app.extensions[webhooks.EXTENSION] = {}
    for event_type, functions in handlers.items():
        for function in functions:
            payments.on(app, event_type, function)


def record_events(app, *event_types: str) -> list:
    """Make `app` only record the typed events of these types it receives; the list."""
    calls: list = []
    handle_only(app, {event_type: [calls.append] for event_type in event_types})
    return calls
