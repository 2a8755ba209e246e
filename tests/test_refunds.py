"""Refunds, whole or partial, from the admin page and from Stripe, kept in step by events:
each one made once, the order's status and refunded total from Stripe's own figures."""

import re

import pytest
from sqlalchemy import select

from admin_helpers import paid, stored, timeline
from checkout_helpers import deliver, pay
from conftest import csrf_token
from shop.catalog.models import Product
from shop.extensions import db
from shop.notifications.models import OutboxMessage
from shop.orders.models import Refund
from shop.payments import emulator
from stripe_helpers import recorded_events, stripe_client


@pytest.fixture
def paid_order(app, order):
    """The customer's order (2 Ethiopia + 1 mug, $47.00), paid on the emulator's page."""
    return paid(app, order)


def refund(client, order_id: int, htmx: bool = False, key: str | None = None, **fields):
    """Post the refund form of an order's admin page (its own key, unless one is given)."""
    page = client.get(f"/admin/orders/{order_id}").get_data(as_text=True)
    form_key = key or re.search(r'name="key" value="([0-9a-f]{32})"', page).group(1)
    data = {"key": form_key, **fields}
    if htmx:
        headers = {"HX-Request": "true", "X-CSRFToken": csrf_token(client, "/admin")}
        return client.post(f"/admin/orders/{order_id}/refunds", data=data, headers=headers)
    data["csrf_token"] = csrf_token(client, "/admin")
    return client.post(f"/admin/orders/{order_id}/refunds", data=data)


def rows(app, order_id: int) -> list[tuple]:
    """The order's refund rows: (amount, status, actor id, stripe id present)."""
    with app.app_context():
        found = db.session.scalars(
            select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)
        )
        return [
            (r.amount_cents, r.status, r.actor_id, r.stripe_refund_id is not None) for r in found
        ]


def stripe_refunds(app, payment_intent_id: str) -> list:
    """The refunds Stripe (the emulator) has for a PaymentIntent."""
    with app.app_context():
        listed = stripe_client().v1.refunds.list(params={"payment_intent": payment_intent_id})
        return listed.data


def kinds(app, order_id: int) -> list[str]:
    """The kinds of an order's timeline entries."""
    return [kind for kind, *_ in timeline(app, order_id)]


def test_a_whole_refund_from_the_admin_page(app, client, admin, paid_order):
    response = refund(admin.client, paid_order.id, full="on", reason="requested_by_customer")
    assert response.status_code == 303
    page = admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Refunded $47.00 of order #{paid_order.id}." in page
    assert 'data-status="refunded"' in page and 'data-refunded-cents="4700"' in page
    order = stored(app, paid_order.id)
    assert (order.status, order.refunded_cents) == ("refunded", 4700)
    assert rows(app, paid_order.id) == [(4700, "succeeded", admin.id, True)]
    [made] = stripe_refunds(app, order.payment_intent_id)
    assert (made.amount, made.reason, made.status) == (4700, "requested_by_customer", "succeeded")
    assert kinds(app, paid_order.id)[-2:] == ["refund", "refunded"]
    assert (
        "$47.00, requested by customer, by boss@example.com" in timeline(app, paid_order.id)[-2][3]
    )
    my_orders = client.get("/orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'data-order-id="{paid_order.id}" data-status="refunded"' in my_orders
    with app.app_context():
        notices = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "refund"))
        assert [m.recipient for m in notices] == ["ada@example.com"]


def test_partial_refunds_then_the_rest(app, admin, paid_order):
    first = refund(admin.client, paid_order.id, htmx=True, amount="10.00")
    assert first.status_code == 200 and "Refunded $10.00" in first.get_data(as_text=True)
    assert (stored(app, paid_order.id).status, stored(app, paid_order.id).refunded_cents) == (
        "partially_refunded",
        1000,
    )
    rest = refund(admin.client, paid_order.id, htmx=True, full="on")  # all that is left
    assert "Refunded $37.00" in rest.get_data(as_text=True)
    order = stored(app, paid_order.id)
    assert (order.status, order.refunded_cents) == ("refunded", 4700)
    assert [r[0] for r in rows(app, paid_order.id)] == [1000, 3700]
    assert (
        "Refund"
        not in rest.get_data(as_text=True)
        .split('id="refunds"')[1]
        .split("</section>")[0]
        .split("</ul>")[-1]
    )  # no form once nothing is left


def test_a_refund_over_what_is_left_is_422_and_nothing_is_sent(app, admin, paid_order):
    refund(admin.client, paid_order.id, amount="40.00")
    response = refund(admin.client, paid_order.id, amount="7.01")
    assert response.status_code == 422
    assert "Only $7.00 of order" in response.get_data(as_text=True)
    assert len(stripe_refunds(app, stored(app, paid_order.id).payment_intent_id)) == 1
    assert [r[0] for r in rows(app, paid_order.id)] == [4000]


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("abc", "like 12.50"),
        ("1.234", "2 decimal"),
        ("0,05", "Use a point for the decimals: 0.05"),
        ("1,0,0", "comma only groups thousands"),
    ],
)
def test_a_malformed_amount_is_422_and_nothing_is_sent(app, admin, paid_order, amount, words):
    response = refund(admin.client, paid_order.id, amount=amount)
    assert response.status_code == 422 and words in response.get_data(as_text=True)
    assert rows(app, paid_order.id) == []


def test_an_unknown_reason_is_422(app, admin, paid_order):
    assert refund(admin.client, paid_order.id, full="on", reason="because").status_code == 422
    assert rows(app, paid_order.id) == []


@pytest.mark.parametrize(
    "fields,words",
    [
        ({}, "Type the amount to refund, or choose “Refund everything left”."),
        ({"amount": "  "}, "Type the amount to refund"),
        ({"full": "yes"}, "Type the amount to refund"),
        ({"amount": "5.00", "full": "on"}, "not both"),
    ],
    ids=["nothing", "blank amount", "full not on", "both"],
)
def test_everything_left_is_an_explicit_choice(app, admin, paid_order, fields, words):
    """An empty amount used to refund the whole order; now it refunds nothing and says so."""
    response = refund(admin.client, paid_order.id, htmx=True, **fields)
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert rows(app, paid_order.id) == []
    assert stripe_refunds(app, stored(app, paid_order.id).payment_intent_id) == []


def test_an_unpaid_order_cannot_be_refunded(app, admin, order):
    response = refund(admin.client, order.id, key="a" * 32, amount="1.00")
    assert response.status_code == 409
    assert "only a paid order can be refunded" in response.get_data(as_text=True)
    assert rows(app, order.id) == []


def test_the_same_form_twice_is_one_refund(app, admin, paid_order):
    key = "b" * 32
    first = refund(admin.client, paid_order.id, key=key, amount="5.00")
    again = refund(admin.client, paid_order.id, key=key, amount="5.00", htmx=True)
    assert first.status_code == 303 and again.status_code == 200
    assert "That refund of $5.00 was already made" in again.get_data(as_text=True)
    assert len(stripe_refunds(app, stored(app, paid_order.id).payment_intent_id)) == 1
    assert stored(app, paid_order.id).refunded_cents == 500


def test_a_refund_made_in_the_stripe_dashboard_reaches_the_order(app, paid_order):
    with app.test_request_context():
        stripe_client().v1.refunds.create(
            params={"payment_intent": paid_order.payment_intent_id, "amount": 1200}
        )
    order = stored(app, paid_order.id)
    assert (order.status, order.refunded_cents) == ("partially_refunded", 1200)
    assert rows(app, paid_order.id) == [(1200, "succeeded", None, True)]
    assert "by Stripe Dashboard" in timeline(app, paid_order.id)[-2][3]


def test_duplicate_and_out_of_order_events_have_one_effect(app, client, paid_order):
    with app.test_request_context():
        stripe_client().v1.refunds.create(
            params={"payment_intent": paid_order.payment_intent_id, "amount": 700}
        )
        events = {
            e["type"]: e for e in recorded_events() if e["type"].startswith(("refund", "charge"))
        }
    before = timeline(app, paid_order.id)
    for _ in range(5):
        assert (
            deliver(client, app, {**events["charge.refunded"], "id": "evt_again"}).status_code
            == 200
        )
    created_again = {**events["refund.created"], "id": "evt_created_late"}
    assert deliver(client, app, created_again).status_code == 200
    assert timeline(app, paid_order.id) == before
    assert rows(app, paid_order.id) == [(700, "succeeded", None, True)]
    assert stored(app, paid_order.id).refunded_cents == 700


def test_a_refund_that_fails_at_stripe_gives_the_money_back_to_the_order(app, admin, order):
    pay(app, order.stripe_session_id, "4000000000005126")  # pays; its refunds fail later
    response = refund(admin.client, order.id, amount="20.00")
    assert response.status_code == 303
    refreshed = stored(app, order.id)
    assert (refreshed.status, refreshed.refunded_cents) == ("paid", 0)
    assert rows(app, order.id) == [(2000, "failed", admin.id, True)]
    assert timeline(app, order.id)[-4:] == [
        ("refund", "webhook", None, "$20.00, by boss@example.com"),
        ("partially_refunded", "webhook", None, ""),
        ("refund_failed", "webhook", None, "$20.00 failed: expired_or_canceled_card"),
        ("paid", "webhook", None, ""),
    ]


def test_stripe_refusing_marks_the_row_failed_and_shows_stripes_words(app, admin, paid_order):
    with app.app_context():  # refunded at Stripe with webhooks lost: the shop does not know
        app.config["STRIPE_EMULATOR_WEBHOOKS"] = False
        stripe_client().v1.refunds.create(params={"payment_intent": paid_order.payment_intent_id})
        app.config["STRIPE_EMULATOR_WEBHOOKS"] = True
    response = refund(admin.client, paid_order.id, amount="1.00")
    assert response.status_code == 502
    assert "Stripe refused the refund" in response.get_data(as_text=True)
    assert rows(app, paid_order.id) == [(100, "failed", admin.id, False)]
    assert kinds(app, paid_order.id)[-1] == "refund_failed"


def test_stripe_not_answering_reserves_and_a_retry_refunds_once(app, admin, paid_order):
    key = "c" * 32
    with app.app_context():
        emulator.fail_next("timeout")
    first = refund(admin.client, paid_order.id, key=key, amount="3.00")
    assert first.status_code == 503 and "refunds at most once" in first.get_data(as_text=True)
    assert rows(app, paid_order.id) == [(300, "pending", admin.id, False)]
    assert "Only $44.00" in refund(admin.client, paid_order.id, amount="45.00").get_data(
        as_text=True
    )  # the pending refund's amount is held
    retry = refund(admin.client, paid_order.id, key=key, amount="3.00")
    assert retry.status_code == 303
    assert rows(app, paid_order.id)[0] == (300, "succeeded", admin.id, True)
    assert len(stripe_refunds(app, stored(app, paid_order.id).payment_intent_id)) == 1


def test_returning_the_items_to_stock_happens_only_when_asked_and_once(
    app, admin, paid_order, seeded
):
    def stock_of(sku):
        with app.app_context():
            return db.session.get(Product, seeded[sku]).stock

    before = stock_of("BEAN-ETH-250")
    refund(admin.client, paid_order.id, amount="5.00")
    assert stock_of("BEAN-ETH-250") == before
    refund(admin.client, paid_order.id, amount="5.00", return_to_stock="on")
    refund(admin.client, paid_order.id, amount="5.00", return_to_stock="on")
    assert stock_of("BEAN-ETH-250") == before + 2  # the order's 2 bags, back once
    assert "stock_returned" in kinds(app, paid_order.id)


def test_a_refund_event_for_an_unknown_payment_is_acknowledged(app, client):
    event = {
        "id": "evt_stranger",
        "object": "event",
        "type": "refund.created",
        "data": {
            "object": {
                "id": "re_stranger",
                "object": "refund",
                "amount": 100,
                "currency": "usd",
                "status": "succeeded",
                "payment_intent": "pi_nobody",
                "metadata": {},
            }
        },
    }
    assert deliver(client, app, event).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Refund)) == 0


def test_refunds_are_counted_in_the_metrics_once(app, admin, paid_order):
    from shop import metrics

    def value(counter, **labels):
        return counter.labels(**labels)._value.get()

    before = (
        value(metrics.REFUNDS, outcome="succeeded"),
        value(metrics.REFUNDED_CENTS, currency="usd"),
    )
    refund(admin.client, paid_order.id, amount="4.00", key="d" * 32)
    refund(admin.client, paid_order.id, amount="4.00", key="d" * 32)  # the same form again
    after = (
        value(metrics.REFUNDS, outcome="succeeded"),
        value(metrics.REFUNDED_CENTS, currency="usd"),
    )
    assert (after[0] - before[0], after[1] - before[1]) == (1, 400)
