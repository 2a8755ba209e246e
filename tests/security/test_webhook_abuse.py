"""Forged, replayed, stale, oversized and malformed webhooks against a real pending order.

Each refused delivery must leave everything as it was: no row in stripe_events, the order
still pending, the cart untouched. A genuine one must get through whatever else is odd
about it (several signatures, the Content-Type), and the endpoint is never rate limited.
"""

import json
import time

import pytest
from sqlalchemy import select

from checkout_helpers import add, fixture_event, orders
from shop.cart.models import CartItem
from shop.extensions import db
from shop.payments import webhooks
from shop.payments.models import StripeEvent
from stripe_helpers import signed_event, v1_signature

URL = "/stripe/webhook"


def state(app) -> dict:
    """Everything a webhook can change: processed events, orders, cart lines."""
    with app.app_context():
        return {
            "events": sorted(db.session.scalars(select(StripeEvent.id))),
            "orders": [(o.id, o.status, o.payment_intent_id) for o in orders(app)],
            "cart": sorted(db.session.execute(select(CartItem.product_id, CartItem.quantity))),
        }


def completed(order, event_id="evt_abuse_1") -> dict:
    """A real `checkout.session.completed` payload for `order`."""
    return fixture_event("checkout.session.completed.json", order, event_id)


def post_raw(client, body: bytes, header: str | None, **headers):
    """POST `body` as Stripe would, with `header` as Stripe-Signature (None: no header)."""
    headers = {"Content-Type": "application/json", **headers}
    if header is not None:
        headers["Stripe-Signature"] = header
    return client.post(URL, data=body, headers=headers)


def assert_refused(response, status=400):
    """Refused with a JSON error that Stripe's dashboard shows."""
    assert response.status_code == status
    assert response.is_json and "error" in response.get_json()


# --- signatures and timestamps --------------------------------------------------------------


def test_the_control_a_genuine_delivery_pays_the_order(app, client, order):
    body, headers = signed_event(completed(order), app.config["STRIPE_WEBHOOK_SECRET"])
    assert client.post(URL, data=body, headers=headers).status_code == 200
    after = state(app)
    assert after["events"] == ["evt_abuse_1"] and after["orders"][0][1] == "paid"
    assert after["cart"] == []


def bad_headers(secret: str, body: bytes) -> dict[str, str | None]:
    """Stripe-Signature values that must not pass, by what is wrong with them."""
    now = int(time.time())
    good = v1_signature(secret, now, body)
    return {
        "missing": None,
        "empty": "",
        "forged with another secret": f"t={now},v1={v1_signature('whsec_attacker', now, body)}",
        "signature of another body": f"t={now},v1={v1_signature(secret, now, body + b' ')}",
        "timestamp not a number": "t=abc,v1=",
        "no timestamp": f"v1={good}",
        "no signature": f"t={now}",
        "empty signature": f"t={now},v1=",
        "only the v0 scheme": f"t={now},v0={good}",
        "signed with a different timestamp": f"t={now - 1},v1={good}",
        "stale (older than 300 s)": f"t={now - 301},v1={v1_signature(secret, now - 301, body)}",
        "an hour ahead": f"t={now + 3600},v1={v1_signature(secret, now + 3600, body)}",
        "years ahead": f"t={now + 10**8},v1={v1_signature(secret, now + 10**8, body)}",
        "garbage": "\u00e9\u00e9\u00e9",
    }


@pytest.mark.parametrize(
    "case", list(bad_headers("whsec_x", b"{}")), ids=lambda case: case.replace(" ", "-")
)
def test_a_delivery_without_a_valid_recent_signature_changes_nothing(app, client, order, case):
    body, _ = signed_event(completed(order), app.config["STRIPE_WEBHOOK_SECRET"])
    before = state(app)
    header = bad_headers(app.config["STRIPE_WEBHOOK_SECRET"], body)[case]
    assert_refused(post_raw(client, body, header))
    assert state(app) == before


def test_a_little_clock_skew_ahead_is_accepted(app, client, order):
    """Stripe's clock may run a little ahead of ours; that is not a replay."""
    ahead = int(time.time()) + 60
    body, headers = signed_event(completed(order), app.config["STRIPE_WEBHOOK_SECRET"], ahead)
    assert client.post(URL, data=body, headers=headers).status_code == 200


def test_several_v1_signatures_pass_when_one_matches(app, client, order):
    """As Stripe does while a secret is being rolled: any matching v1 signature counts."""
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    body = json.dumps(completed(order)).encode()
    now = int(time.time())
    header = f"t={now},v1={'0' * 64},v1={v1_signature(secret, now, body)},v1=deadbeef"
    assert post_raw(client, body, header).status_code == 200
    assert state(app)["orders"][0][1] == "paid"


def test_a_second_timestamp_cannot_smuggle_a_future_date_past_the_check(app, client, order):
    """The SDK verifies with the first `t`; the future check must read that same one."""
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    body = json.dumps(completed(order)).encode()
    future, now = int(time.time()) + 10**6, int(time.time())
    header = f"t={future},v1={v1_signature(secret, future, body)},t={now}"
    before = state(app)
    assert_refused(post_raw(client, body, header))
    assert state(app) == before


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", None],
)
def test_the_signature_is_checked_on_the_raw_bytes_whatever_the_content_type(
    app, client, order, content_type
):
    body, headers = signed_event(completed(order), app.config["STRIPE_WEBHOOK_SECRET"])
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type
    assert client.post(URL, data=body, headers=headers).status_code == 200
    assert state(app)["orders"][0][1] == "paid"


# --- replays ---------------------------------------------------------------------------------


def test_a_replayed_delivery_is_handled_once_then_refused_once_stale(
    app, client, user, seeded, order, monkeypatch
):
    body, headers = signed_event(completed(order), app.config["STRIPE_WEBHOOK_SECRET"])
    assert client.post(URL, data=body, headers=headers).status_code == 200
    add(client, seeded["BEAN-ETH-250"], 2)  # bought again after paying
    paid = state(app)
    again = client.post(URL, data=body, headers=headers)
    assert again.status_code == 200 and "duplicate" in again.get_json()["received"]
    assert state(app) == paid  # the new cart line was not taken away a second time
    # The same bytes captured and sent six minutes later: past the replay window.
    later = time.time() + webhooks.TOLERANCE + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert_refused(client.post(URL, data=body, headers=headers))
    assert state(app) == paid


def test_a_new_event_id_for_a_paid_session_does_not_fulfil_it_again(app, client, seeded, order):
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    body, headers = signed_event(completed(order, "evt_first"), secret)
    assert client.post(URL, data=body, headers=headers).status_code == 200
    add(client, seeded["MUG-STONE"], 1)
    paid = state(app)
    body, headers = signed_event(completed(order, "evt_second"), secret)
    assert client.post(URL, data=body, headers=headers).status_code == 200
    after = state(app)
    assert after["cart"] == paid["cart"] and after["orders"] == paid["orders"]
    assert after["events"] == ["evt_first", "evt_second"]


# --- bodies ----------------------------------------------------------------------------------


def malformed_bodies(session: dict) -> dict[str, bytes]:
    """Signed bodies that are not a usable Stripe event, by what is wrong with them."""

    def event(obj, event_type="checkout.session.completed"):
        """An event of `event_type` around `obj`."""
        return {"id": "evt_bad", "object": "event", "type": event_type, "data": {"object": obj}}

    bodies = {
        "not JSON": b"<xml>not json</xml>",
        "not UTF-8": b'{"id": "\xff"}',
        "empty": b"",
        "a JSON list": b"[]",
        "a JSON string": b'"checkout.session.completed"',
        "not an event object": json.dumps({**event(session), "object": "charge"}),
        "event without data": json.dumps({"id": "evt_bad", "object": "event", "type": "x"}),
        "event id with NUL": json.dumps({**event(session), "id": "evt_\u0000"}),
        "event id a number": json.dumps({**event(session), "id": 7}),
        "event type overlong": json.dumps({**event(session), "type": "x" * 300}),
        "data.object a string": json.dumps(event("cs_test_1")),
        "data.object a charge": json.dumps(event({"object": "charge", "id": "ch_1"})),
        "data.object empty": json.dumps(event({})),
        "session id missing": json.dumps(event({**session, "id": None})),
        "session id a list": json.dumps(event({**session, "id": [session["id"]]})),
        "session id with NUL": json.dumps(event({**session, "id": session["id"] + "\u0000"})),
        "metadata a string": json.dumps(event({**session, "metadata": "order_id=1"})),
        "payment_status a list": json.dumps(event({**session, "payment_status": ["paid"]})),
        "payment_intent overlong": json.dumps(event({**session, "payment_intent": "pi_" * 200})),
        "expired without a session": json.dumps(event({}, "checkout.session.expired")),
        "async failure without a session": json.dumps(
            event([], "checkout.session.async_payment_failed")
        ),
    }
    return {name: b if isinstance(b, bytes) else b.encode() for name, b in bodies.items()}


MALFORMED = list(malformed_bodies({"object": "checkout.session", "id": "cs_test_x"}))


@pytest.mark.parametrize("case", MALFORMED, ids=lambda case: case.replace(" ", "-"))
def test_a_signed_but_malformed_body_is_400_and_changes_nothing(app, client, order, case):
    body = malformed_bodies(completed(order)["data"]["object"])[case]
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    now = int(time.time())
    header = f"t={now},v1={v1_signature(secret, now, body)}"
    before = state(app)
    assert_refused(post_raw(client, body, header))
    assert state(app) == before


@pytest.mark.parametrize("order_id", ["9" * 30, "\u0661", "-1", "1e3", " 1"])
def test_an_unusable_order_id_in_metadata_is_just_an_unknown_session(app, client, order, order_id):
    """A session we never recorded, whose metadata names no order we could have made."""
    event = completed(order)
    event["data"]["object"].update(id="cs_test_unrecorded", metadata={"order_id": order_id})
    before = state(app)
    body, headers = signed_event(event, app.config["STRIPE_WEBHOOK_SECRET"])
    assert client.post(URL, data=body, headers=headers).status_code == 200
    after = state(app)
    assert after["events"] == ["evt_abuse_1"] and after["orders"] == before["orders"]
    assert after["cart"] == before["cart"]


@pytest.mark.parametrize("size", [webhooks.MAX_BODY_BYTES + 1, 1024 * 1024 + 1])
def test_an_oversized_body_is_413_and_changes_nothing(app, client, order, size):
    event = completed(order)
    event["data"]["object"]["metadata"]["pad"] = ""
    padding = size - len(json.dumps(event).encode())
    event["data"]["object"]["metadata"]["pad"] = "x" * padding
    body, headers = signed_event(event, app.config["STRIPE_WEBHOOK_SECRET"])
    assert len(body) == size
    before = state(app)
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 413
    assert state(app) == before


def test_the_webhook_is_not_rate_limited(app, client, order):
    """Stripe may deliver bursts (a backlog after an outage): 200 in a row all get through."""
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    for n in range(200):
        event = fixture_event("event.json", order, f"evt_burst_{n}")
        body, headers = signed_event(event, secret)
        response = client.post(URL, data=body, headers=headers)
        assert response.status_code == 200, (n, response.status_code)
    assert len(state(app)["events"]) == 200
