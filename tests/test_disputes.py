"""Disputes (chargebacks): Stripe's charge.dispute.* events, from the emulator's own command,
put an order on its dispute axis; replays and any order of events have one effect."""

import pytest
from emulator_schema import stripe_schema  # noqa: F401  (every event checked against Stripe's)
from sqlalchemy import select

from admin_helpers import paid, ship, stored, timeline
from checkout_helpers import deliver
from shop.admin import services as admin_services
from shop.extensions import db
from shop.models import utcnow
from shop.notifications.models import OutboxMessage
from shop.orders.models import Dispute
from stripe_helpers import recorded_events, stripe_client


@pytest.fixture
def paid_order(app, order):
    """The customer's order (2 Ethiopia + 1 mug, $47.00), paid on the emulator's page."""
    return paid(app, order)


def dispute(runner, order_id: int, *flags: str):
    """`flask emulator dispute ORDER_ID [--lose|--win]`; its output."""
    result = runner.invoke(args=["emulator", "dispute", str(order_id), *flags])
    assert result.exit_code == 0, result.output
    return result.output


def dispute_events(app) -> list[dict]:
    """The charge.dispute.* events the emulator recorded, oldest first."""
    with app.test_request_context():
        found = [e for e in recorded_events() if e["type"].startswith("charge.dispute.")]
    return sorted(found, key=lambda e: ["created", "updated", "closed"].index(e["type"][15:]))


def admin_mails(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(
            db.session.scalars(select(OutboxMessage).where(OutboxMessage.cause.like("dispute:%")))
        )


def kinds(app, order_id: int) -> list[str]:
    return [kind for kind, *_ in timeline(app, order_id)]


def test_an_opened_dispute_marks_the_order_and_tells_the_admins_once(
    app, admin, runner, paid_order
):
    output = dispute(runner, paid_order.id)
    assert "charge.dispute.created -> 200" in output
    order = stored(app, paid_order.id)
    assert (order.status, order.dispute, order.dispute_lost_cents) == ("paid", "open", 0)
    assert order.attention and "disputed" in order.attention
    kind, source, _, note = timeline(app, paid_order.id)[-2]
    assert (kind, source) == ("dispute", "webhook")
    assert "$47.00, fraudulent, evidence due" in note
    assert "dashboard.stripe.com" not in note  # the emulator has no Dashboard
    [mail] = admin_mails(app)
    assert mail.recipient == "boss@example.com" and mail.kind == "account"
    assert f"Order #{paid_order.id} is disputed" == mail.context["subject"]
    page = admin.client.get(f"/admin/orders/{paid_order.id}").get_data(as_text=True)
    assert 'data-dispute="open"' in page and 'data-status="paid"' in page
    assert "confirm_disputed" in page
    listed = admin.client.get("/admin/orders?attention=1").get_data(as_text=True)
    assert f"#{paid_order.id}" in listed
    with app.app_context():
        assert admin_services.dashboard(utcnow()).attention == 1
    # Replayed: the same event, and again under another id, changes nothing.
    created = dispute_events(app)[0]
    before = timeline(app, paid_order.id)
    assert deliver(app.test_client(), app, created).status_code == 200
    assert deliver(app.test_client(), app, {**created, "id": "evt_again"}).status_code == 200
    assert timeline(app, paid_order.id) == before and len(admin_mails(app)) == 1


def test_the_dashboard_link_with_a_real_key(app, paid_order):
    from shop.orders import disputes
    from shop.orders.lifecycle import Origin
    from shop.orders.models import Source
    from shop.payments import Dispute as Made

    app.config["STRIPE_SECRET_KEY"] = "sk_test_example"
    made = Made("dp_123", "ch_1", paid_order.payment_intent_id, 4700, "usd", "fraudulent",
                "needs_response", None)  # fmt: skip
    with app.test_request_context():
        disputes.sync(made, Origin(Source.WEBHOOK, "evt_1"))
        db.session.commit()
    note = timeline(app, paid_order.id)[-2][3]
    assert "https://dashboard.stripe.com/test/disputes/dp_123" in note


def test_shipping_a_disputed_order_asks_for_confirmation(app, admin, runner, paid_order):
    dispute(runner, paid_order.id)
    refused = ship(admin.client, paid_order.id, carrier="DHL")
    assert refused.status_code == 409
    assert "is disputed" in refused.get_data(as_text=True)
    assert stored(app, paid_order.id).fulfilment == "unfulfilled"
    confirmed = ship(admin.client, paid_order.id, carrier="DHL", confirm_disputed="on")
    assert confirmed.status_code == 303
    assert stored(app, paid_order.id).fulfilment == "shipped"


def test_a_lost_dispute_counts_as_money_returned(app, admin, runner, paid_order):
    output = dispute(runner, paid_order.id, "--lose")
    assert [line.split()[1] for line in output.splitlines() if line.startswith("evt_")] == [
        "charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"
    ]  # fmt: skip
    order = stored(app, paid_order.id)
    assert (order.status, order.dispute, order.dispute_lost_cents) == ("paid", "lost", 4700)
    assert kinds(app, paid_order.id)[-1] == "dispute_lost"
    with app.app_context():
        [takings] = admin_services.dashboard(utcnow()).takings["today"]
        assert (takings.orders, takings.revenue_cents) == (1, 0)
    page = admin.client.get(f"/admin/orders/{paid_order.id}").get_data(as_text=True)
    assert 'data-dispute="lost"' in page and 'data-kept-cents="0"' in page
    assert len(admin_mails(app)) == 1


def test_a_won_dispute_restores_the_money(app, runner, paid_order):
    dispute(runner, paid_order.id, "--win")
    order = stored(app, paid_order.id)
    assert (order.status, order.dispute, order.dispute_lost_cents) == ("paid", "won", 0)
    assert kinds(app, paid_order.id)[-1] == "dispute_won"
    with app.app_context():
        [takings] = admin_services.dashboard(utcnow()).takings["today"]
        assert takings.revenue_cents == 4700


def test_events_in_reverse_order_end_as_stripe_last_had_it(app, admin, runner, paid_order):
    app.config["STRIPE_EMULATOR_WEBHOOKS"] = False  # recorded only: the test delivers them
    dispute(runner, paid_order.id, "--lose")
    assert stored(app, paid_order.id).dispute is None
    events = dispute_events(app)
    assert [e["type"] for e in events] == [
        "charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"
    ]  # fmt: skip
    client = app.test_client()
    for event in reversed(events):
        assert deliver(client, app, event).status_code == 200
    order = stored(app, paid_order.id)
    assert (order.dispute, order.dispute_lost_cents) == ("lost", 4700)
    assert kinds(app, paid_order.id).count("dispute") == 1
    with app.app_context():
        [row] = db.session.scalars(select(Dispute))
        assert row.status == "lost" and row.evidence_due_by is not None
    assert len(admin_mails(app)) == 1


def test_a_dispute_on_a_partially_refunded_order(app, runner, paid_order):
    with app.test_request_context():
        stripe_client().v1.refunds.create(
            params={"payment_intent": paid_order.payment_intent_id, "amount": 1200}
        )
    dispute(runner, paid_order.id, "--lose")
    [created, *_] = dispute_events(app)
    assert created["data"]["object"]["amount"] == 3500  # what was not refunded
    order = stored(app, paid_order.id)
    assert (order.status, order.refunded_cents) == ("partially_refunded", 1200)
    assert (order.dispute, order.dispute_lost_cents, order.returned_cents) == ("lost", 3500, 4700)


def test_a_refund_is_refused_while_the_order_is_disputed(app, admin, runner, paid_order):
    from test_refunds import refund

    dispute(runner, paid_order.id)
    refused = refund(admin.client, paid_order.id, amount="5.00")
    assert refused.status_code == 409
    assert "disputed" in refused.get_data(as_text=True)
    with app.test_request_context():
        listed = stripe_client().v1.refunds.list(
            params={"payment_intent": paid_order.payment_intent_id}
        )
        assert listed.data == []


def test_the_command_refuses_an_order_without_a_charge(app, runner, order):
    result = runner.invoke(args=["emulator", "dispute", str(order.id)])
    assert result.exit_code != 0
    assert f"order {order.id} has no paid charge" in result.output


def test_reconcile_picks_up_a_missed_dispute(app, admin, runner, paid_order):
    app.config["STRIPE_EMULATOR_WEBHOOKS"] = False  # the webhook endpoint is never reached
    dispute(runner, paid_order.id)
    assert stored(app, paid_order.id).dispute is None
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "charge.dispute.created" in result.output
    order = stored(app, paid_order.id)
    assert order.dispute == "open"
    assert ("dispute", "reconcile") in [(k, s) for k, s, *_ in timeline(app, paid_order.id)]
    assert len(admin_mails(app)) == 1
    again = runner.invoke(args=["payments", "reconcile"])
    assert "0 applied" in again.output
    assert len(admin_mails(app)) == 1
