"""The real SDK against the emulator: create, retrieve, list, expire, idempotency, errors."""

import threading
import time

import pytest
import stripe

from conftest import app_config
from shop import create_app
from shop.payments import emulator, gateway
from stripe_helpers import line, session_params


@pytest.fixture
def ctx(app):
    """An app context, as a view or a command has."""
    with app.app_context():
        yield app


def test_create_returns_an_open_unpaid_session_with_totals_and_a_hosted_url(ctx):
    session = gateway.create_checkout_session(session_params(), "order-1001-a")
    assert session["id"].startswith("cs_test_")
    assert session["object"] == "checkout.session"
    assert (session["status"], session["payment_status"], session["mode"]) == (
        "open",
        "unpaid",
        "payment",
    )
    assert session["amount_subtotal"] == session["amount_total"] == 2 * 1250 + 3400
    assert session["currency"] == "usd"
    assert session["client_reference_id"] == "42"
    assert session["metadata"] == {"order_id": "1001"}
    assert session["customer_email"] == "ada@example.com"
    assert session["url"] == f"http://localhost/emulator/checkout/{session['id']}"
    assert session["payment_intent"] is None


def test_line_items_are_read_page_by_page(ctx):
    created = gateway.create_checkout_session(session_params(), "order-1001-b")
    items = gateway.checkout_line_items(created["id"])
    assert [(i["description"], i["quantity"], i["amount_total"]) for i in items] == [
        ("House Espresso 250 g", 2, 2500),
        ("Pour-over kettle", 1, 3400),
    ]
    assert items[0]["price"]["unit_amount"] == 1250
    assert "line_items" not in gateway.retrieve_checkout_session(created["id"])
    # A cart can hold 50 lines; Stripe pages them (10 by default): all of them come back.
    many = [line(name=f"Beans {n}") for n in range(50)]
    big = gateway.create_checkout_session(session_params(line_items=many), "order-1001-c")
    assert [i["description"] for i in gateway.checkout_line_items(big["id"])] == [
        f"Beans {n}" for n in range(50)
    ]


def test_list_pages_newest_first_and_filters_by_status(ctx):
    ids = [gateway.create_checkout_session(session_params(), f"k-{n}")["id"] for n in range(3)]
    gateway.expire_checkout_session(ids[0])
    assert [s["id"] for s in gateway.list_checkout_sessions()] == ids[::-1]
    first = gateway.list_checkout_sessions(limit=2)
    assert [s["id"] for s in first] == [ids[2], ids[1]]
    rest = gateway.list_checkout_sessions(limit=2, starting_after=ids[1])
    assert [s["id"] for s in rest] == [ids[0]]
    assert [s["id"] for s in gateway.list_checkout_sessions(status="open")] == [ids[2], ids[1]]
    assert [s["id"] for s in gateway.list_checkout_sessions(status="expired")] == [ids[0]]
    assert emulator.count_sessions() == 3 and emulator.count_sessions("open") == 2


def test_expire_closes_an_open_session_and_refuses_twice(ctx):
    session = gateway.create_checkout_session(session_params(), "order-exp")
    expired = gateway.expire_checkout_session(session["id"])
    assert (expired["status"], expired["url"]) == ("expired", None)
    with pytest.raises(gateway.PaymentsRejected) as caught:
        gateway.expire_checkout_session(session["id"])
    assert "has a status of `expired`" in caught.value.message
    assert caught.value.http_status == 400


def test_expiring_a_completed_session_is_refused(ctx):
    session = gateway.create_checkout_session(session_params(), "order-paid")
    emulator.pay(session["id"])
    with pytest.raises(gateway.PaymentsRejected, match="status of `complete`"):
        gateway.expire_checkout_session(session["id"])
    assert gateway.retrieve_checkout_session(session["id"])["status"] == "complete"


def test_sessions_past_expires_at_read_as_expired(ctx, monkeypatch):
    session = gateway.create_checkout_session(session_params(), "order-late")
    later = time.time() + 31 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert gateway.retrieve_checkout_session(session["id"])["status"] == "expired"
    assert emulator.count_sessions("open") == 0 and emulator.count_sessions("expired") == 1
    with pytest.raises(gateway.PaymentsRejected, match="status of `expired`"):
        gateway.expire_checkout_session(session["id"])


def test_same_idempotency_key_replays_the_first_session(ctx):
    params = session_params()
    first = gateway.create_checkout_session(params, "order-1001-v1")
    again = gateway.create_checkout_session(params, "order-1001-v1")
    assert again == first
    assert emulator.count_sessions() == 1


def test_same_key_with_other_parameters_is_an_idempotency_error(ctx):
    gateway.create_checkout_session(session_params(), "order-1001-v2")
    with pytest.raises(gateway.PaymentsRejected) as caught:
        gateway.create_checkout_session(session_params(client_reference_id="43"), "order-1001-v2")
    assert caught.value.code == "idempotency_error"
    assert emulator.count_sessions() == 1


def test_the_sdk_raises_its_idempotency_error_class(ctx):
    sessions = gateway.client().v1.checkout.sessions
    sessions.create(params=session_params(), options={"idempotency_key": "raw-1"})
    with pytest.raises(stripe.IdempotencyError):
        sessions.create(params=session_params(customer_email="b@example.com"),
                        options={"idempotency_key": "raw-1"})  # fmt: skip


def test_parallel_creates_with_one_key_make_one_session(app):
    params, ids, failures = session_params(), [], []

    def create():
        with app.app_context():
            try:
                ids.append(gateway.create_checkout_session(params, "order-race")["id"])
            except Exception as error:  # collected so the assertion shows it
                failures.append(error)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(ids) == 8 and len(set(ids)) == 1
    with app.app_context():
        assert emulator.count_sessions() == 1


@pytest.mark.parametrize(
    ("change", "param", "code"),
    [
        ({"mode": None}, "mode", "parameter_missing"),
        ({"line_items": None}, "line_items", "parameter_missing"),
        ({"success_url": None}, "success_url", "parameter_missing"),
        ({"line_items": [line(quantity=None)]}, "line_items[0][quantity]", "parameter_missing"),
        ({"line_items": [line(name="")]}, "line_items[0][price_data][product_data][name]",
         "parameter_missing"),
        ({"line_items": [line(unit_amount="12.5")]}, "line_items[0][price_data][unit_amount]",
         "parameter_invalid_integer"),
        ({"line_items": [line(unit_amount=-1)]}, "line_items[0][price_data][unit_amount]",
         "parameter_invalid_integer"),
        ({"line_items": [line(quantity=0)]}, "line_items[0][quantity]",
         "parameter_invalid_integer"),
        ({"line_items": [line()] * 101}, "line_items", None),
        ({"expires_at": int(time.time()) + 10 * 60}, "expires_at", None),
        ({"expires_at": int(time.time()) + 25 * 3600}, "expires_at", None),
        ({"expires_at": "soon"}, "expires_at", "parameter_invalid_integer"),
        ({"mode": "banana"}, "mode", None),
        ({"success_url": "not a url"}, "success_url", "url_invalid"),
        ({"customer_email": "nobody"}, "customer_email", "email_invalid"),
        ({"shipping": "x"}, "shipping", "parameter_unknown"),
    ],
)  # fmt: skip
def test_invalid_parameters_are_stripe_invalid_request_errors(ctx, change, param, code):
    sessions = gateway.client().v1.checkout.sessions
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sessions.create(params=session_params(**change), options={"idempotency_key": param})
    assert caught.value.http_status == 400
    assert caught.value.param == param
    assert caught.value.code == code
    assert caught.value.error.type == "invalid_request_error"
    assert emulator.count_sessions() == 0


def test_a_refused_request_does_not_burn_its_idempotency_key(ctx):
    with pytest.raises(gateway.PaymentsRejected):
        gateway.create_checkout_session(session_params(mode=None), "order-retry")
    assert gateway.create_checkout_session(session_params(), "order-retry")["status"] == "open"


def test_unknown_session_is_session_not_found(ctx):
    with pytest.raises(gateway.SessionNotFound) as caught:
        gateway.retrieve_checkout_session("cs_test_nope")
    assert (caught.value.code, caught.value.http_status) == ("resource_missing", 404)
    with pytest.raises(stripe.InvalidRequestError, match="No such checkout.session"):
        gateway.client().v1.checkout.sessions.expire("cs_test_nope")


@pytest.mark.parametrize("kind", ["timeout", "api_error"])
def test_outages_are_payments_unavailable_then_service_resumes(ctx, kind):
    emulator.fail_next(kind, times=2)
    for _ in range(2):
        with pytest.raises(gateway.PaymentsUnavailable):
            gateway.create_checkout_session(session_params(), "order-outage")
    assert gateway.create_checkout_session(session_params(), "order-outage")["status"] == "open"
    assert emulator.count_sessions() == 1


def test_outage_kinds_map_to_the_sdk_classes(ctx):
    emulator.fail_next("timeout")
    with pytest.raises(stripe.APIConnectionError):
        gateway.client().v1.checkout.sessions.list()
    emulator.fail_next("api_error")
    with pytest.raises(stripe.APIError):
        gateway.client().v1.checkout.sessions.list()
    with pytest.raises(ValueError):
        emulator.fail_next("meteor")


def test_real_key_builds_a_network_client_with_retries_and_timeouts(migrated):
    app = create_app(
        app_config(migrated, STRIPE_SECRET_KEY="sk_test_123", STRIPE_WEBHOOK_SECRET="whsec_x",
                   STRIPE_EMULATOR=False)
    )  # fmt: skip
    client = gateway.build_client(app)
    http = client._requestor._client
    assert isinstance(http, stripe.RequestsClient) and http._timeout == gateway.TIMEOUT
    assert client._requestor._options.max_network_retries == gateway.MAX_NETWORK_RETRIES
    assert client._requestor._options.api_key == "sk_test_123"


def test_emulator_refuses_to_answer_when_a_real_key_is_set(app):
    with app.app_context():
        client = gateway.client()
        app.config["STRIPE_SECRET_KEY"] = "sk_live_oops"
        with pytest.raises(RuntimeError, match="never runs"):
            client.v1.checkout.sessions.list()
