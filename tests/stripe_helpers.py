"""Helpers for tests of the payments layer: session parameters, signing, fixtures."""

import hashlib
import hmac
import json
import time
from contextlib import contextmanager
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


def stripe_client():
    """The shop's own `StripeClient` (in-process to the emulator); needs an app context."""
    from shop.payments import gateway

    return gateway.client()


def paid_intent(key: str = "paid-1", card: str = "4242424242424242", **params) -> str:
    """Create a session through the SDK, pay it on the hosted page; its PaymentIntent id."""
    from shop.payments import emulator

    sessions = stripe_client().v1.checkout.sessions
    session = sessions.create(params=session_params(**params), options={"idempotency_key": key})
    emulator.pay(session.id, card)
    return sessions.retrieve(session.id).payment_intent


def recorded_events() -> list[dict]:
    """Every event the emulator recorded, oldest first (needs an app context)."""
    from shop.extensions import db
    from shop.payments.emulator.models import EmulatorEvent

    rows = db.session.scalars(db.select(EmulatorEvent).order_by(EmulatorEvent.seq))
    return [json.loads(row.payload) for row in rows]


def delivered() -> list[tuple[str, int]]:
    """(event type, status the webhook answered) of every delivery, in order."""
    from shop.extensions import db
    from shop.payments.emulator.models import EmulatorDelivery, EmulatorEvent

    rows = db.session.execute(
        db.select(EmulatorEvent.type, EmulatorDelivery.status_code)
        .join(EmulatorEvent, EmulatorEvent.id == EmulatorDelivery.event_id)
        .order_by(EmulatorDelivery.pk)
    )
    return [tuple(row) for row in rows]


def in_parallel(target, count: int) -> None:
    """Run `target(n)` for n in range(count), each on its own thread, started together."""
    import threading

    start = threading.Barrier(count)

    def run(n: int) -> None:
        """Wait for every thread, then go."""
        start.wait()
        target(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def remote_client(base_url: str, key: str | None = None):
    """An SDK client reaching the emulator over HTTP at `base_url`, as another process would."""
    from shop.config import EMULATOR_API_KEY

    api = f"{base_url}/emulator/stripe"
    return stripe.StripeClient(key or EMULATOR_API_KEY, base_addresses={"api": api})


@contextmanager
def app_with(database_url: str, **settings):
    """A test app with extra settings on the run's database; its tables are emptied after,
    as the `app` fixture does for the default one."""
    from conftest import app_config
    from shop import create_app
    from shop.extensions import db

    app = create_app(app_config(database_url, **settings))
    try:
        yield app
    finally:
        with app.app_context():
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
            db.engine.dispose()
