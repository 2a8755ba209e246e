"""`POST /stripe/webhook`: signed Stripe payloads are handled once; anything else is refused."""

import json
import logging
import threading
import time

import pytest

from shop.extensions import db
from shop.payments import CheckoutEvent, webhooks
from shop.payments.models import StripeEvent
from stripe_helpers import EVENT_FIXTURES, handle_only, load_event, record_events, signed

URL = "/stripe/webhook"


@pytest.fixture
def received(app):
    """Handlers for the checkout events that record what they were given."""
    return record_events(
        app,
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    )


def recorded(app) -> list[str]:
    """Ids in the processed-events table."""
    with app.app_context():
        return list(db.session.scalars(db.select(StripeEvent.id)))


def post(client, event, **sign_args):
    """POST an event signed with the test secret."""
    payload = json.dumps(event)
    return client.post(URL, data=payload, headers=signed(payload, **sign_args))


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_every_stripe_fixture_is_accepted_when_signed(app, client, received, name):
    event = load_event(name)
    response = post(client, event)
    assert response.status_code == 200
    assert recorded(app) == [event["id"]]
    if event["type"].startswith("checkout.session."):
        # Handlers get the shop's typed event, never Stripe's dict.
        assert [(e.id, e.type, e.via) for e in received] == [
            (event["id"], event["type"], "webhook")
        ]
        assert isinstance(received[0], CheckoutEvent)
        assert received[0].session.id == event["data"]["object"]["id"]
    else:
        assert received == []  # plan.created: nobody registered, still acknowledged


def test_handler_sees_the_fields_set_for_our_order(client, received):
    event = load_event(
        "checkout.session.completed.json",
        id="cs_test_ours",
        client_reference_id="7",
        metadata={"order_id": "7"},
        amount_total=3650,
    )
    assert post(client, event).status_code == 200
    session = received[0].session
    assert (session.id, session.order_id, session.customer_id, session.amount_total) == (
        "cs_test_ours",
        7,
        "7",
        3650,
    )


def test_duplicate_event_is_acknowledged_and_not_handled_again(app, client, received):
    event = load_event("checkout.session.completed.json")
    assert post(client, event).status_code == 200
    again = post(client, event)
    assert again.status_code == 200 and "duplicate" in again.get_json()["received"]
    assert len(received) == 1 and recorded(app) == [event["id"]]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Stripe-Signature": "garbage"},
        {"Stripe-Signature": "t=abc,v1=00"},
        {"Stripe-Signature": "t=1700000000"},
    ],
)
def test_missing_or_unparseable_signature_is_400(app, client, received, headers):
    payload = json.dumps(load_event("checkout.session.completed.json"))
    response = client.post(
        URL, data=payload, headers={"Content-Type": "application/json", **headers}
    )
    assert response.status_code == 400
    assert received == [] and recorded(app) == []


def test_forged_signature_is_400(app, client, received):
    event = load_event("checkout.session.completed.json")
    assert post(client, event, secret="whsec_someone_else").status_code == 400
    payload = json.dumps(event)
    headers = signed(payload)
    tampered = payload.replace('"amount_total": 2000', '"amount_total": 1')
    assert tampered != payload
    assert client.post(URL, data=tampered, headers=headers).status_code == 400
    assert received == [] and recorded(app) == []


def test_stale_timestamp_is_400(app, client, received):
    event = load_event("checkout.session.completed.json")
    response = post(client, event, timestamp=int(time.time()) - webhooks.TOLERANCE - 10)
    assert response.status_code == 400
    assert received == [] and recorded(app) == []


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[]",
        '{"id": "evt_1", "object": "event", "type": "checkout.session.completed"}',
        '{"id": "evt_1", "object": "event", "type": "x", "data": {"object": "nope"}}',
        '{"object": "event", "type": "x", "data": {"object": {}}}',
        '{"id": "evt_1", "object": "charge", "type": "x", "data": {"object": {}}}',
    ],
)
def test_signed_but_malformed_body_is_400(app, client, received, payload):
    response = client.post(URL, data=payload, headers=signed(payload))
    assert response.status_code == 400
    assert received == [] and recorded(app) == []


def test_signed_non_utf8_body_is_400(app, client):
    body = b'{"id": "\xff"}'
    header = signed("x")["Stripe-Signature"]
    response = client.post(URL, data=body, headers={"Stripe-Signature": header})
    assert response.status_code == 400 and recorded(app) == []


def test_huge_body_is_refused_and_nothing_recorded(app, client, received):
    event = load_event("checkout.session.completed.json")
    event["data"]["object"]["metadata"] = {"pad": "x" * (webhooks.MAX_BODY_BYTES + 1)}
    response = post(client, event)
    assert response.status_code == 413
    assert received == [] and recorded(app) == []


def test_unknown_event_type_is_acknowledged_with_a_log_line(app, client, received, caplog):
    event = load_event("event.json")
    with caplog.at_level(logging.INFO):
        response = post(client, event)
    assert response.status_code == 200
    assert any("no handler for plan.created" in r.getMessage() for r in caplog.records)


def test_failing_handler_answers_500_records_nothing_and_a_retry_succeeds(app, client):
    attempts = []

    def flaky(event):
        """Fails the first time, as a handler hitting a transient error would."""
        attempts.append(event.id)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")

    handle_only(app, {"checkout.session.completed": [flaky]})

    event = load_event("checkout.session.completed.json")
    assert post(client, event).status_code == 500
    assert recorded(app) == []
    assert post(client, event).status_code == 200
    assert recorded(app) == [event["id"]] and len(attempts) == 2


def test_handler_work_commits_with_the_event_record(app, client):
    def note(event):
        """Writes a row in the same transaction as the event id."""
        db.session.add(StripeEvent(id="side-effect-" + event.id, type="note"))

    handle_only(app, {"checkout.session.expired": [note]})

    event = load_event("checkout.session.expired.json")
    assert post(client, event).status_code == 200
    assert sorted(recorded(app)) == sorted([event["id"], "side-effect-" + event["id"]])


def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


def test_concurrent_duplicates_are_handled_once(app):
    handled, statuses = [], []

    def slow(event):
        """Holds the transaction open a moment so the duplicates really overlap."""
        time.sleep(0.2)
        handled.append(event.id)

    handle_only(app, {"checkout.session.completed": [slow]})

    payload = json.dumps(load_event("checkout.session.completed.json"))

    def deliver():
        statuses.append(
            app.test_client().post(URL, data=payload, headers=signed(payload)).status_code
        )

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6
    assert len(handled) == 1
