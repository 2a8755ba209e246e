"""`flask emulator expire-due` and `flask emulator resend EVENT_ID`."""

import time

import pytest

from conftest import app_config
from shop import create_app
from shop.extensions import db
from shop.payments import emulator, gateway
from shop.payments.emulator.models import EmulatorDelivery
from stripe_helpers import record_events, session_params


@pytest.fixture
def received(app):
    """Record the checkout events the shop receives."""
    return record_events(app, "checkout.session.expired", "checkout.session.completed")


def create(app, key):
    """An open session."""
    with app.app_context():
        return gateway.create_checkout_session(session_params(), key)


def test_expire_due_expires_overdue_sessions_and_delivers_the_event(
    app, runner, received, monkeypatch
):
    overdue = create(app, "a")
    later = time.time() + 31 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    fresh = create(app, "b")
    result = runner.invoke(args=["emulator", "expire-due"])
    assert result.exit_code == 0, result.output
    assert "checkout.session.expired -> 200" in result.output
    assert [e.session.id for e in received] == [overdue["id"]]
    assert received[0].session.status == "expired"
    with app.app_context():
        assert emulator.count_sessions("expired") == 1
        assert gateway.retrieve_checkout_session(fresh["id"])["status"] == "open"
    again = runner.invoke(args=["emulator", "expire-due"])
    assert "delivered: 0" in again.output and len(received) == 1


def test_expiry_through_the_api_is_delivered_by_expire_due(app, runner, received):
    session = create(app, "c")
    with app.app_context():
        gateway.expire_checkout_session(session["id"])
    assert received == []  # never pushed inside the caller's own request
    result = runner.invoke(args=["emulator", "expire-due"])
    assert "delivered: 1" in result.output
    assert received[0].type == "checkout.session.expired"


def test_resend_delivers_again_and_the_shop_ignores_the_duplicate(app, runner, received):
    session = create(app, "d")
    with app.app_context():
        event_id = emulator.pay(session["id"])["event_id"]
    result = runner.invoke(args=["emulator", "resend", event_id])
    assert result.exit_code == 0 and f"{event_id} checkout.session.completed -> 200" in (
        result.output
    )
    assert len(received) == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(EmulatorDelivery)) == 2


def test_resend_of_an_unknown_event_fails_cleanly(runner):
    result = runner.invoke(args=["emulator", "resend", "evt_nope"])
    assert result.exit_code != 0 and "no such event: evt_nope" in result.output


def test_commands_refuse_with_a_real_key(migrated):
    app = create_app(
        app_config(migrated, STRIPE_SECRET_KEY="sk_test_123", STRIPE_WEBHOOK_SECRET="whsec_x",
                   STRIPE_EMULATOR=False)
    )  # fmt: skip
    result = app.test_cli_runner().invoke(args=["emulator", "expire-due"])
    assert result.exit_code != 0 and "emulator is off" in result.output


def test_expire_due_delivers_to_the_public_address_in_production(production_app):
    # Found by the sale-day rehearsal (issue #23): outside a request, deliveries went to
    # http://localhost/, which production's host guard refuses (400), so a public demo's
    # scheduled `flask emulator expire-due` never delivered anything.
    prod = production_app(STRIPE_WEBHOOK_SECRET="whsec_production_cli_test")
    received = record_events(prod, "checkout.session.expired")
    session = create(prod, "e")
    with prod.app_context():
        gateway.expire_checkout_session(session["id"])
    result = prod.test_cli_runner().invoke(args=["emulator", "expire-due"])
    assert "checkout.session.expired -> 200" in result.output, result.output
    assert [e.session.id for e in received] == [session["id"]]
    with prod.app_context():
        urls = db.session.scalars(db.select(EmulatorDelivery.url)).all()
    assert urls == ["https://shop.example.com/stripe/webhook"]
