"""What the shop writes down about Stripe's events besides applying them: how each event
arrived (a delivery, or reconcile catching up), and every delivery whose handling failed."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from checkout_helpers import deliver, fixture_event
from shop.extensions import db
from shop.payments import webhooks
from shop.payments.models import StripeEvent, WebhookFailure
from stripe_helpers import handle_only

COMPLETED = "checkout.session.completed"


def recorded(app) -> list[tuple[str, str]]:
    """(event id, via) of every recorded event."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(select(StripeEvent.id, StripeEvent.via))]


def failures(app) -> list[tuple[str, str]]:
    """(event id, type) of every recorded failed delivery, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(WebhookFailure.event_id, WebhookFailure.event_type).order_by(WebhookFailure.id)
        )
        return [tuple(row) for row in rows]


def broken(event) -> None:
    """A handler with a bug."""
    raise RuntimeError("a bug in a handler")


def test_a_delivered_event_is_recorded_as_a_webhook_delivery(app, client, order):
    event = fixture_event("checkout.session.completed.json", order, "evt_delivered")
    assert deliver(client, app, event).status_code == 200
    assert recorded(app) == [("evt_delivered", "webhook")]


def test_an_event_reconcile_applies_is_recorded_as_caught_up(app, order):
    event = fixture_event("checkout.session.completed.json", order, "evt_caught_up")
    with app.test_request_context():
        assert webhooks.handle(event, via="reconcile").message == "handled"
    assert recorded(app) == [("evt_caught_up", "reconcile")]


def test_each_failed_delivery_is_recorded_and_its_event_is_not(app, client, order):
    handle_only(app, {COMPLETED: [broken]})
    event = fixture_event("checkout.session.completed.json", order, "evt_broken")
    for _ in range(2):  # Stripe retries
        assert deliver(client, app, event).status_code == 500
    assert failures(app) == [("evt_broken", COMPLETED)] * 2
    assert recorded(app) == []


def test_a_failure_while_reconciling_is_not_a_failed_delivery(app, order):
    handle_only(app, {COMPLETED: [broken]})
    event = fixture_event("checkout.session.completed.json", order, "evt_reconciled")
    with app.test_request_context():
        assert webhooks.handle(event, via="reconcile").status == 500
    assert failures(app) == []


def test_a_failure_that_cannot_be_written_down_is_still_a_500(app, client, order, monkeypatch):
    def unwritable(**columns):
        raise OperationalError("INSERT INTO webhook_failures", {}, Exception("database away"))

    handle_only(app, {COMPLETED: [broken]})
    monkeypatch.setattr(webhooks, "WebhookFailure", unwritable)
    event = fixture_event("checkout.session.completed.json", order, "evt_unwritable")
    answer = deliver(client, app, event)
    assert (answer.status_code, answer.get_json()) == (
        500,
        {"error": "handler failed; retry later"},
    )
    assert failures(app) == [] and recorded(app) == []


@pytest.mark.parametrize("via", ["webhook", "reconcile"])
def test_a_duplicate_is_recorded_once_whichever_way_it_came(app, client, order, via):
    event = fixture_event("checkout.session.completed.json", order, "evt_once")
    with app.test_request_context():
        webhooks.handle(event, via=via)
    assert deliver(client, app, event).get_json() == {"received": "duplicate event ignored"}
    assert recorded(app) == [("evt_once", via)]
