"""Fulfilment: the webhook and the success page mark an order paid exactly once."""

import re
import threading

import pytest
from sqlalchemy import select, update

from checkout_helpers import add, deliver, fixture_event, orders, pay
from shop.cart.models import CartItem
from shop.extensions import db
from shop.orders.models import Order


def cart(app, user_id) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(
            select(CartItem.product_id, CartItem.quantity).where(CartItem.user_id == user_id)
        )
        return dict(rows.all())


def unmark_paid(app):
    """Put the shop back to "webhook not arrived yet" (the session stays paid at Stripe)."""
    with app.app_context():
        db.session.execute(update(Order).values(status="pending", paid_at=None))
        db.session.commit()


def test_paying_marks_the_order_paid_and_empties_the_cart_of_it(app, client, user, order):
    pay(app, order.stripe_session_id)
    [paid] = orders(app)
    assert paid.status == "paid" and paid.paid_at is not None
    assert paid.payment_intent_id.startswith("pi_")
    assert cart(app, user) == {}


def test_success_page_after_the_webhook_changes_nothing_more(app, client, user, seeded, order):
    pay(app, order.stripe_session_id)
    add(client, seeded["BEAN-ETH-250"], 1)  # bought again after paying
    response = client.get(f"/checkout/success?session_id={order.stripe_session_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Order #{order.id} is paid" in html
    assert f'data-order-id="{order.id}" data-status="paid"' in html
    assert cart(app, user) == {seeded["BEAN-ETH-250"]: 1}


def test_success_page_before_the_webhook_fulfils_once(app, client, user, seeded, order):
    pay(app, order.stripe_session_id)
    unmark_paid(app)
    add(client, seeded["BEAN-ETH-250"], 4)  # the webhook's removal undone, plus 2 more
    add(client, seeded["MUG-STONE"], 1)
    first = client.get(f"/checkout/success?session_id={order.stripe_session_id}")
    client.get(f"/checkout/success?session_id={order.stripe_session_id}")
    assert f"Order #{order.id} is paid" in first.get_data(as_text=True)
    [paid] = orders(app)
    assert paid.status == "paid"
    assert cart(app, user) == {seeded["BEAN-ETH-250"]: 2}


def test_items_added_after_checkout_started_stay_in_the_cart(app, client, user, seeded, order):
    add(client, seeded["BEAN-ETH-250"], 3)  # now 5 in the cart, 2 of them being paid
    add(client, seeded["GEAR-SCALE"], 1)
    pay(app, order.stripe_session_id)
    assert cart(app, user) == {seeded["BEAN-ETH-250"]: 3, seeded["GEAR-SCALE"]: 1}


def test_success_page_for_someone_elses_or_a_made_up_session_is_404(app, client, auth, order):
    other = app.test_client()
    auth.create_user("eve@example.com")
    from conftest import AuthActions

    AuthActions(app, other).login("eve@example.com")
    mine = other.get(f"/checkout/success?session_id={order.stripe_session_id}")
    assert mine.status_code == 404
    assert order.stripe_session_id not in mine.get_data(as_text=True)
    assert client.get("/checkout/success?session_id=cs_test_made_up").status_code == 404
    assert client.get("/checkout/success").status_code == 404
    assert orders(app)[0].status == "pending"


def test_unpaid_return_leaves_the_order_pending(app, client, order):
    response = client.get(f"/checkout/success?session_id={order.stripe_session_id}")
    assert response.status_code == 200
    assert "waiting for Stripe" in response.get_data(as_text=True)
    assert orders(app)[0].status == "pending"


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("checkout.session.completed.json", "paid"),
        ("checkout.session.completed.unpaid.json", "pending"),
        ("checkout.session.async_payment_succeeded.json", "paid"),
        ("checkout.session.async_payment_failed.json", "failed"),
        ("checkout.session.expired.json", "expired"),
    ],
)
def test_real_stripe_payloads_move_a_real_order(app, client, order, fixture, status):
    response = deliver(client, app, fixture_event(fixture, order))
    assert response.status_code == 200
    assert orders(app)[0].status == status


def test_the_same_event_twice_reduces_the_cart_once(app, client, user, seeded, order):
    event = fixture_event("checkout.session.completed.json", order, "evt_dupe_1")
    add(client, seeded["BEAN-ETH-250"], 2)  # 4 in the cart, 2 being paid
    assert deliver(client, app, event).status_code == 200
    assert deliver(client, app, event).status_code == 200
    assert cart(app, user) == {seeded["BEAN-ETH-250"]: 2}


def test_completed_and_async_succeeded_for_one_session_fulfil_once(
    app, client, user, seeded, order
):
    add(client, seeded["BEAN-ETH-250"], 2)
    deliver(client, app, fixture_event("checkout.session.completed.json", order, "evt_a"))
    deliver(
        client, app, fixture_event("checkout.session.async_payment_succeeded.json", order, "evt_b")
    )
    assert orders(app)[0].status == "paid"
    assert cart(app, user) == {seeded["BEAN-ETH-250"]: 2}


def test_expired_after_completed_keeps_the_order_paid(app, client, order):
    deliver(client, app, fixture_event("checkout.session.completed.json", order, "evt_c"))
    deliver(client, app, fixture_event("checkout.session.expired.json", order, "evt_d"))
    assert orders(app)[0].status == "paid"


def test_a_paid_session_for_a_cancelled_order_still_becomes_paid(app, client, order):
    with app.app_context():
        db.session.execute(update(Order).values(status="cancelled"))
        db.session.commit()
    deliver(client, app, fixture_event("checkout.session.completed.json", order, "evt_e"))
    assert orders(app)[0].status == "paid"


def test_unknown_session_is_acknowledged(app, client, order):
    event = fixture_event("checkout.session.completed.json", order, "evt_f")
    event["data"]["object"]["id"] = "cs_test_unknown"
    event["data"]["object"]["metadata"] = {"order_id": "999999"}
    assert deliver(client, app, event).status_code == 200
    assert orders(app)[0].status == "pending"


def test_concurrent_webhook_and_success_page_fulfil_once(app, client, user, seeded, order):
    pay(app, order.stripe_session_id)
    unmark_paid(app)
    add(client, seeded["BEAN-ETH-250"], 4)  # 4 in the cart again; 2 must go, once
    cookie = client.get_cookie("session").value
    events = [
        fixture_event("checkout.session.completed.json", order, f"evt_race_{n}") for n in range(4)
    ]
    barrier = threading.Barrier(len(events) + 2)
    statuses: list[int] = []

    def webhook(event):
        own = app.test_client()
        barrier.wait()
        statuses.append(deliver(own, app, event).status_code)

    def success_page():
        own = app.test_client()
        own.set_cookie("session", cookie)
        barrier.wait()
        statuses.append(
            own.get(f"/checkout/success?session_id={order.stripe_session_id}").status_code
        )

    threads = [threading.Thread(target=webhook, args=(e,)) for e in events]
    threads += [threading.Thread(target=success_page) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * len(threads)
    assert orders(app)[0].status == "paid"
    assert cart(app, user) == {seeded["BEAN-ETH-250"]: 2}


def test_the_success_page_thanks_once_then_shows_the_order(app, client, user, seeded, order):
    pay(app, order.stripe_session_id)
    path = f"/checkout/success?session_id={order.stripe_session_id}"
    first = client.get(path).get_data(as_text=True)
    thanks = re.search(r'<p id="orders-message"[^>]*>([^<]*)</p>', first)
    assert thanks.group(1) == f"Thank you! Order #{order.id} is paid."
    assert 'role="status" tabindex="-1" autofocus' in thanks.group(0)
    assert 'class="order order-detail"' in first and ">Continue shopping</button>" in first
    again = client.get(path).get_data(as_text=True)  # a reload
    assert "Thank you" not in again and 'id="orders-message"' not in again
    assert f'data-order-id="{order.id}" data-status="paid"' in again
