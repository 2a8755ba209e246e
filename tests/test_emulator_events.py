"""Events as Stripe records them: who caused them (`request`), `GET /v1/events` with its
filters and pages, and STRIPE_EMULATOR_WEBHOOKS=0 (recorded, never delivered)."""

import time

import pytest
import stripe

from shop.config import ConfigError, load_config
from shop.payments import emulator
from shop.payments.emulator import events
from stripe_helpers import (
    app_with,
    delivered,
    paid_intent,
    record_events,
    recorded_events,
    session_params,
    stripe_client,
)


@pytest.fixture
def ctx(app):
    """An app context, as a view or a command has."""
    with app.app_context():
        yield app


def list_events(**params):
    """`GET /v1/events` through the shop's SDK client."""
    return stripe_client().v1.events.list(params=params)


# --- A5: request.id and request.idempotency_key ---


def test_events_name_the_api_request_that_caused_them(ctx):
    intent_id = paid_intent()
    made = stripe_client().v1.refunds.create(
        params={"payment_intent": intent_id}, options={"idempotency_key": "refund-7-1"}
    )
    request_id = made.last_response.request_id
    assert request_id.startswith("req_")
    created, refunded = list_events(types=["refund.created", "charge.refunded"]).data[::-1]
    for event in (created, refunded):
        assert event.request.id == request_id
        assert event.request.idempotency_key == "refund-7-1"


def test_events_no_request_caused_have_a_null_request(ctx, runner, monkeypatch):
    paid_intent()  # paid on the hosted page: no API request
    [completed] = list_events(type="checkout.session.completed").data
    assert (completed.request.id, completed.request.idempotency_key) == (None, None)
    session = stripe_client().v1.checkout.sessions.create(params=session_params())
    later = time.time() + 31 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    events.expire_due()  # expired by time
    [expired] = list_events(type="checkout.session.expired").data
    assert expired.data.object.id == session.id and expired.request.id is None


def test_an_expiry_through_the_api_names_its_request(ctx):
    session = stripe_client().v1.checkout.sessions.create(params=session_params())
    expired = stripe_client().v1.checkout.sessions.expire(session.id)
    [event] = list_events(type="checkout.session.expired").data
    assert event.request.id == expired.last_response.request_id
    assert event.request.idempotency_key == expired.last_response.headers.get("Idempotency-Key")


# --- GET /v1/events ---


def test_events_list_newest_first_filters_by_type_and_pages(ctx):
    first, second = paid_intent("a"), paid_intent("b")
    stripe_client().v1.refunds.create(params={"payment_intent": first})
    stripe_client().v1.refunds.create(params={"payment_intent": second, "amount": 100})
    everything = [e.type for e in list_events(limit=100).data]
    assert everything == [
        "charge.refunded", "refund.created", "charge.refunded", "refund.created",
        "checkout.session.completed", "checkout.session.completed",
    ]  # fmt: skip
    assert [e.type for e in list_events(type="refund.created").data] == ["refund.created"] * 2
    assert len(list_events(type="refund.*").data) == 2
    assert len(list_events(types=["refund.created", "checkout.session.completed"]).data) == 4
    page = list_events(limit=4)
    assert page.has_more is True and page.url == "/v1/events" and len(page.data) == 4
    rest = list_events(limit=4, starting_after=page.data[-1].id)
    assert [e.type for e in rest.data] == everything[4:] and rest.has_more is False
    back = list_events(limit=2, ending_before=rest.data[0].id)
    assert [e.id for e in back.data] == [e.id for e in page.data[2:4]]
    one = stripe_client().v1.events.retrieve(page.data[0].id)
    assert one.to_dict() == page.data[0].to_dict()
    assert [e.id for e in list_events(limit=1).auto_paging_iter()] == [
        e.id for e in list_events(limit=100).data
    ]


def test_events_list_filters_by_created(ctx, monkeypatch):
    paid_intent("early")
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    paid_intent("late")
    early_event, late_event = list_events().data[::-1]
    cut = late_event.created
    assert [e.id for e in list_events(created={"gte": cut}).data] == [late_event.id]
    assert [e.id for e in list_events(created={"gt": cut}).data] == []
    assert [e.id for e in list_events(created={"lt": cut}).data] == [early_event.id]
    assert [e.id for e in list_events(created={"lte": cut, "gt": cut - 1}).data] == [late_event.id]
    assert [e.id for e in list_events(created=early_event.created).data] == [early_event.id]


@pytest.mark.parametrize(
    ("params", "status", "param"),
    [
        ({"type": "refund.created", "types": ["charge.refunded"]}, 400, "types"),
        ({"limit": 0}, 400, "limit"),
        ({"created": {"since": 1}}, 400, "created[since]"),
        ({"starting_after": "evt_nope"}, 404, "starting_after"),
        ({"types": [f"t{n}" for n in range(21)]}, 400, "types"),
    ],
)
def test_bad_event_queries_get_stripes_errors(ctx, params, status, param):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        list_events(**params)
    assert (caught.value.http_status, caught.value.param) == (status, param)


def test_an_unknown_event_is_404(ctx):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client().v1.events.retrieve("evt_nope")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


# --- A6: STRIPE_EMULATOR_WEBHOOKS=0 ---


@pytest.fixture
def quiet_app(migrated):
    """An app whose emulator records events but never delivers them."""
    with app_with(migrated, STRIPE_EMULATOR_WEBHOOKS=False) as app:
        yield app


@pytest.fixture
def received(quiet_app):
    """Every event the shop's webhook handled."""
    return record_events(quiet_app, "checkout.session.completed", "checkout.session.expired")


def test_with_webhooks_off_events_are_recorded_and_listed_but_never_delivered(quiet_app, received):
    with quiet_app.app_context():
        result = emulator.pay(
            stripe_client().v1.checkout.sessions.create(params=session_params()).id
        )
        assert result["status_code"] is None and result["redirect_url"]
        assert received == [] and delivered() == []
        [event] = list_events(delivery_success=False).data
        assert event.id == result["event_id"] and event.type == "checkout.session.completed"
        assert list_events(delivery_success=True).data == []


def test_with_webhooks_off_expire_due_records_and_resend_delivers(quiet_app, received, monkeypatch):
    runner = quiet_app.test_cli_runner()
    with quiet_app.app_context():
        session = stripe_client().v1.checkout.sessions.create(params=session_params())
    later = time.time() + 31 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    result = runner.invoke(args=["emulator", "expire-due"])
    assert result.exit_code == 0 and "delivered: 0 (STRIPE_EMULATOR_WEBHOOKS=0" in result.output
    with quiet_app.app_context():
        assert emulator.count_sessions("expired") == 1 and received == []
        [event] = recorded_events()
        assert event["data"]["object"]["id"] == session.id
    resent = runner.invoke(args=["emulator", "resend", event["id"]])
    assert resent.exit_code == 0 and "checkout.session.expired -> 200" in resent.output
    assert [e.id for e in received] == [event["id"]]
    help_text = runner.invoke(args=["emulator", "resend", "--help"]).output
    assert "STRIPE_EMULATOR_WEBHOOKS=0" in help_text


@pytest.mark.parametrize(
    ("raw", "expected"), [("", True), ("1", True), ("0", False), ("off", False), ("yes", True)]
)
def test_the_webhooks_setting_reads_like_a_flag(tmp_path, raw, expected):
    env = {"FLASK_DEBUG": "1", "STRIPE_EMULATOR_WEBHOOKS": raw}
    assert load_config(env, str(tmp_path))["STRIPE_EMULATOR_WEBHOOKS"] is expected


def test_a_webhooks_setting_that_is_not_a_flag_stops_start_up(tmp_path):
    env = {"FLASK_DEBUG": "1", "STRIPE_EMULATOR_WEBHOOKS": "sometimes"}
    with pytest.raises(ConfigError, match="STRIPE_EMULATOR_WEBHOOKS"):
        load_config(env, str(tmp_path))
