"""Every change to an order lands on its timeline, in the same transaction, saying where it
came from: the customer's checkout, the success page, a webhook (with the event id), the
shop itself, and (through the same handlers) `flask payments reconcile`."""

from datetime import timedelta

from sqlalchemy import select, update

from checkout_helpers import (
    add,
    checkout,
    deliver,
    fixture_event,
    give_stripe_customer,
    orders,
    pay,
)
from conftest import all_at_once
from shop.extensions import db
from shop.models import utcnow
from shop.orders.lifecycle import Origin, move
from shop.orders.models import Order, OrderEvent, Source
from shop.payments import emulator
from shop.payments import webhooks as payment_webhooks


def timeline(app, order_id: int) -> list[tuple[str, str, str | None]]:
    """An order's timeline as (kind, source, reference), oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(OrderEvent.kind, OrderEvent.source, OrderEvent.reference)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.at, OrderEvent.id)
        )
        return [tuple(row) for row in rows]


def unmark_paid(app):
    """Back to "nothing told the shop yet": pending, and no timeline entry for the payment."""
    with app.app_context():
        db.session.execute(update(Order).values(status="pending", paid_at=None))
        db.session.execute(OrderEvent.__table__.delete().where(OrderEvent.kind == "paid"))
        db.session.commit()


def test_the_customer_s_checkout_records_the_new_order(app, order):
    assert timeline(app, order.id) == [("created", "checkout", None)]


def test_a_webhook_records_the_payment_with_its_event_id(app, client, order):
    event = fixture_event("checkout.session.completed.json", order, "evt_timeline_paid")
    assert deliver(client, app, event).status_code == 200
    assert deliver(client, app, event).status_code == 200  # a duplicate adds nothing
    assert timeline(app, order.id) == [
        ("created", "checkout", None),
        ("paid", "webhook", "evt_timeline_paid"),
    ]


def test_webhooks_record_failure_and_expiry(app, client, user, seeded, order):
    failed = fixture_event("checkout.session.async_payment_failed.json", order, "evt_t_failed")
    assert deliver(client, app, failed).status_code == 200
    assert timeline(app, order.id)[-1] == ("failed", "webhook", "evt_t_failed")

    add(client, seeded["MUG-STONE"])
    checkout(client)
    second = orders(app)[-1]
    expired = fixture_event("checkout.session.expired.json", second, "evt_t_expired")
    assert deliver(client, app, expired).status_code == 200
    assert timeline(app, second.id)[-1] == ("expired", "webhook", "evt_t_expired")


def test_the_success_page_records_a_payment_the_webhook_has_not_brought(app, client, order):
    pay(app, order.stripe_session_id)
    unmark_paid(app)
    client.get(f"/checkout/success?session_id={order.stripe_session_id}")
    client.get(f"/checkout/success?session_id={order.stripe_session_id}")
    assert timeline(app, order.id) == [
        ("created", "checkout", None),
        ("paid", "success_page", order.stripe_session_id),
    ]


def test_a_replaced_checkout_records_why(app, client, user, seeded, order):
    add(client, seeded["GEAR-SCALE"])  # the cart changed: the next checkout replaces
    checkout(client)
    old, new = orders(app)
    assert timeline(app, old.id) == [
        ("created", "checkout", None),
        ("cancelled", "checkout", old.stripe_session_id),
    ]
    assert timeline(app, new.id) == [("created", "checkout", None)]


def test_the_next_checkout_records_a_payment_it_finds(app, client, user, seeded, order):
    pay(app, order.stripe_session_id)
    unmark_paid(app)
    add(client, seeded["MUG-STONE"])  # a changed cart makes the next checkout look
    checkout(client)
    [paid, *_] = orders(app)
    assert paid.status == "paid"
    assert timeline(app, paid.id)[-1] == ("paid", "checkout", paid.stripe_session_id)


def test_the_shop_records_freeing_a_slot_left_by_a_crash(app, client, user, seeded, order):
    with app.app_context():  # as if the request died between claiming and calling Stripe
        db.session.execute(
            update(Order).values(stripe_session_id=None, created_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    add(client, seeded["MUG-STONE"])
    checkout(client)
    stale = orders(app)[0]
    assert stale.status == "failed"
    assert timeline(app, stale.id)[-1] == ("failed", "system", None)


def test_a_stripe_outage_at_checkout_records_the_failure(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    give_stripe_customer(app, user)
    with app.app_context():
        emulator.fail_next("api_error")
    assert checkout(client).status_code == 503
    [failed] = orders(app)
    kinds = timeline(app, failed.id)
    assert [kind for kind, *_ in kinds] == ["created", "failed"]
    with app.app_context():
        note = db.session.scalar(select(OrderEvent.note).where(OrderEvent.kind == "failed"))
    assert note.startswith("Stripe did not open a session")


def test_reconciled_events_are_recorded_as_such(app, order):
    event = fixture_event("checkout.session.completed.json", order, "evt_fetched_later")
    with app.test_request_context():
        outcome = payment_webhooks.handle(event, via="reconcile")
    assert outcome.status == 200
    assert timeline(app, order.id)[-1] == ("paid", "reconcile", "evt_fetched_later")


def test_racing_moves_write_one_entry(app, order):
    def attempt(n: int) -> bool:
        moved = move(order.id, "expired", Origin(Source.SYSTEM, f"race-{n}"))
        db.session.commit()
        return moved

    outcomes = all_at_once(app, 6, attempt)
    assert sorted(outcomes) == [False] * 5 + [True]
    assert [kind for kind, *_ in timeline(app, order.id)] == ["created", "expired"]


def test_a_move_that_rolls_back_leaves_no_entry(app, order):
    with app.app_context():
        assert move(order.id, "cancelled", Origin(Source.SYSTEM))
        db.session.rollback()
    assert orders(app)[0].status == "pending"
    assert timeline(app, order.id) == [("created", "checkout", None)]
