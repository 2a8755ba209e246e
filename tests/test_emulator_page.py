"""The hosted checkout page: pay, decline, cancel, and the webhook it delivers."""

import json
import re
import threading
import time

import pytest
import stripe

from conftest import app_config, csrf_token
from shop import create_app
from shop.config import EMULATOR_WEBHOOK_SECRET
from shop.extensions import db
from shop.payments import emulator, gateway
from shop.payments.emulator import events
from shop.payments.emulator.models import EmulatorDelivery, EmulatorEvent
from shop.payments.models import StripeEvent
from stripe_helpers import handle_only, record_events, session_params


@pytest.fixture
def completed(app):
    """Record the `checkout.session.completed` events the shop receives."""
    return record_events(app, "checkout.session.completed")


@pytest.fixture
def session(app):
    """An open session, created through the SDK."""
    with app.app_context():
        return gateway.create_checkout_session(session_params(), "order-page")


def page_path(session) -> str:
    """The path of the session's hosted page."""
    return session["url"].removeprefix("http://localhost")


def pay(client, session, card):
    """Submit the page's form as a browser would (CSRF token from the page)."""
    path = page_path(session)
    return client.post(path, data={"card_number": card, "csrf_token": csrf_token(client, path)})


def status_of(app, session_id) -> str:
    """The session's status as Stripe reports it."""
    with app.app_context():
        return gateway.retrieve_checkout_session(session_id)["status"]


def test_page_shows_lines_total_card_form_and_cancel_link(client, session):
    page = client.get(page_path(session)).get_data(as_text=True)
    assert "House Espresso 250 g" in page and "Pour-over kettle" in page
    assert "$59.00" in page  # 2 x 12.50 + 34.00
    assert 'name="card_number"' in page and "Pay $59.00" in page
    assert 'href="http://localhost/checkout/cancel"' in page
    assert "Stripe emulator" in page  # the banner of every page


def test_paying_with_4242_completes_delivers_the_webhook_and_redirects(
    app, client, session, completed
):
    response = pay(client, session, "4242 4242 4242 4242")
    assert response.status_code == 303
    assert response.location == (f"http://localhost/checkout/success?session_id={session['id']}")
    with app.app_context():
        paid = gateway.retrieve_checkout_session(session["id"])
        assert (paid["status"], paid["payment_status"]) == ("complete", "paid")
        assert paid["payment_intent"].startswith("pi_")
        assert db.session.get(StripeEvent, completed[0].id).type == "checkout.session.completed"
        delivery = db.session.scalars(db.select(EmulatorDelivery)).one()
        assert (delivery.status_code, delivery.url) == (200, "http://localhost/stripe/webhook")
        event = json.loads(db.session.get(EmulatorEvent, completed[0].id).payload)
    assert event["id"].startswith("evt_") and event["object"] == "event"
    assert event["type"] == "checkout.session.completed"
    assert event["data"]["object"]["id"] == session["id"]
    assert completed[0].session.id == session["id"]
    assert event["data"]["object"]["payment_status"] == "paid"
    assert event["data"]["object"]["metadata"] == {"order_id": "1001"}


def test_delivered_events_verify_with_the_sdk(app, session):
    with app.app_context():
        result = emulator.pay(session["id"])
        payload = db.session.get(EmulatorEvent, result["event_id"]).payload
    header = events.sign(payload, EMULATOR_WEBHOOK_SECRET, int(time.time()))
    event = stripe.Webhook.construct_event(payload, header, EMULATOR_WEBHOOK_SECRET)
    assert event["type"] == "checkout.session.completed"
    assert event["data"]["object"]["status"] == "complete"


def test_declined_card_says_so_and_leaves_the_session_open(app, client, session, completed):
    response = pay(client, session, "4000 0000 0000 0002")
    assert response.status_code == 402
    assert "Your card was declined" in response.get_data(as_text=True)
    assert status_of(app, session["id"]) == "open" and completed == []


@pytest.mark.parametrize("card", ["4111 1111 1111 1111", "", "4242"])
def test_other_numbers_ask_for_a_test_card(app, client, session, card):
    response = pay(client, session, card)
    assert response.status_code == 422
    assert "Use a test card" in response.get_data(as_text=True)
    assert status_of(app, session["id"]) == "open"


def test_the_form_keeps_csrf_on(app, client, session):
    response = client.post(page_path(session), data={"card_number": "4242424242424242"})
    assert response.status_code == 400
    assert status_of(app, session["id"]) == "open"


def test_a_completed_session_shows_that_and_cannot_be_paid_twice(app, client, session, completed):
    assert pay(client, session, "4242424242424242").status_code == 303
    page = client.get(page_path(session)).get_data(as_text=True)
    assert "payment went through" in page and 'name="card_number"' not in page
    assert pay(client, session, "4242424242424242").status_code == 409
    assert len(completed) == 1


def test_an_expired_session_shows_that_state(app, client, session, monkeypatch):
    later = time.time() + 31 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    page = client.get(page_path(session)).get_data(as_text=True)
    assert "has expired" in page and 'name="card_number"' not in page
    response = pay(client, session, "4242424242424242")
    assert response.status_code == 409 and status_of(app, session["id"]) == "expired"


def test_cancelled_sessions_show_expired_after_expire(app, client, session):
    with app.app_context():
        gateway.expire_checkout_session(session["id"])
    assert "has expired" in client.get(page_path(session)).get_data(as_text=True)


def test_unknown_session_page_is_404(client):
    assert client.get("/emulator/checkout/cs_test_nope").status_code == 404


def test_pay_seam_returns_the_delivery_and_refuses_bad_cards(app, session, completed):
    with app.app_context():
        with pytest.raises(emulator.PaymentError) as caught:
            emulator.pay(session["id"], "4000000000000002")
        assert caught.value.status == 402
        result = emulator.pay(session["id"])
    assert result["status_code"] == 200 and result["type"] == "checkout.session.completed"
    assert result["redirect_url"].endswith(session["id"])
    assert completed[0].id == result["event_id"]


def test_a_failing_webhook_is_recorded_and_the_customer_still_gets_the_success_page(
    app, client, session, monkeypatch
):
    def broken(event):
        """The shop's handler failing: Stripe would retry later."""
        raise RuntimeError("boom")

    handle_only(app, {"checkout.session.completed": [broken]})

    assert pay(client, session, "4242424242424242").status_code == 303
    with app.app_context():
        delivery = db.session.scalars(db.select(EmulatorDelivery)).one()
        assert delivery.status_code == 500
        assert db.session.scalars(db.select(StripeEvent)).all() == []


def test_without_the_emulator_its_pages_and_api_do_not_exist(migrated):
    app = create_app(
        app_config(migrated, STRIPE_SECRET_KEY="sk_test_123", STRIPE_WEBHOOK_SECRET="whsec_x",
                   STRIPE_EMULATOR=False)
    )  # fmt: skip
    client = app.test_client()
    assert client.get("/emulator/checkout/cs_test_x").status_code == 404
    assert client.get("/emulator/stripe/v1/checkout/sessions").status_code == 404
    assert "Stripe emulator" not in client.get("/").get_data(as_text=True)


def test_event_payload_is_stripe_shaped(app, session):
    with app.app_context():
        result = emulator.pay(session["id"])
        event = json.loads(db.session.get(EmulatorEvent, result["event_id"]).payload)
    assert set(event) >= {"id", "object", "api_version", "created", "data", "livemode",
                          "pending_webhooks", "request", "type"}  # fmt: skip
    assert re.fullmatch(r"evt_\w{24}", event["id"])


def test_parallel_payments_of_one_session_complete_it_once(app, session, completed):
    outcomes: list[object] = []

    def attempt():
        with app.app_context():
            try:
                outcomes.append(emulator.pay(session["id"])["status_code"])
            except emulator.PaymentError as error:
                outcomes.append(error.status)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [200] + [409] * 5
    assert len(completed) == 1


def test_a_declined_card_is_focused_linked_to_its_field_and_kept(client, session):
    # Issue #18: the message takes the focus, describes the field, and the number stays.
    html = pay(client, session, "4000 0000 0000 0002").get_data(as_text=True)
    error = re.search(r'<p id="card-error"[^>]*>([^<]*)</p>', html)
    assert error.group(1) == "Your card was declined. Nothing was charged."
    assert 'role="alert" tabindex="-1" autofocus' in error.group(0)
    field = re.search(r'<input id="card_number"[^>]*>', html, re.S).group(0)
    assert 'value="4000 0000 0000 0002"' in field
    assert 'aria-invalid="true"' in field and 'aria-describedby="card-error"' in field


def test_an_untouched_card_field_is_not_marked_invalid(client, session):
    html = client.get(page_path(session)).get_data(as_text=True)
    field = re.search(r'<input id="card_number"[^>]*>', html, re.S).group(0)
    assert 'value=""' in field and "aria-invalid" not in field and "aria-describedby" not in field
    assert 'id="card-error"' not in html
