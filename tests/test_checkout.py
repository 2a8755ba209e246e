"""POST /checkout: one pending Checkout Session per user, resumed or replaced by the rules."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from checkout_helpers import (
    add,
    checkout,
    give_stripe_customer,
    orders,
    pay,
    session_email,
    session_url,
)
from conftest import csrf_token
from shop.catalog.models import Product
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import Order
from shop.payments import emulator, gateway


def stripe_session(app, session_id: str) -> dict:
    with app.test_request_context():
        return gateway.retrieve_checkout_session(session_id)


def session_count(app, status: str | None = None) -> int:
    with app.app_context():
        return emulator.count_sessions(status)


def test_checkout_creates_one_pending_order_and_a_matching_session(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"], 2)
    add(client, seeded["MUG-STONE"], 1)
    response = checkout(client)
    assert response.status_code == 200
    [order] = orders(app)
    assert order.status == "pending" and order.user_id == user
    assert order.total_cents == 2 * 1450 + 1800 and order.currency == "usd"
    assert sorted((i.name, i.unit_price_cents, i.quantity) for i in order.items) == [
        ("Ethiopia Yirgacheffe, 250 g", 1450, 2),
        ("Stoneware Mug, 350 ml", 1800, 1),
    ]
    assert session_url(response) == order.session_url
    session = stripe_session(app, order.stripe_session_id)
    assert session["status"] == "open" and session["payment_status"] == "unpaid"
    assert session["amount_total"] == order.total_cents
    assert session["client_reference_id"] == str(user)
    assert session["metadata"]["order_id"] == str(order.id)
    assert session_email(app, session) == "ada@example.com"
    assert session["success_url"].endswith("/checkout/success?session_id={CHECKOUT_SESSION_ID}")
    assert session["cancel_url"].endswith("/checkout/cancel")
    lifetime = session["expires_at"] - session["created"]
    assert 29 * 60 <= lifetime <= 31 * 60


def test_plain_form_checkout_redirects_with_303(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    response = checkout(client, htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"] == orders(app)[0].session_url


def test_a_second_click_resumes_the_same_session(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    first = session_url(checkout(client))
    second = session_url(checkout(client, htmx=False))
    assert first == second
    assert session_count(app) == 1 and len(orders(app)) == 1


def test_a_changed_cart_cancels_the_old_session_and_starts_a_new_one(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    checkout(client)
    add(client, seeded["MUG-STONE"])
    second = session_url(checkout(client))
    old, new = orders(app)
    assert old.status == "cancelled" and new.status == "pending"
    assert second == new.session_url != old.session_url
    assert stripe_session(app, old.stripe_session_id)["status"] == "expired"
    assert new.total_cents == 1450 + 1800


def test_a_session_about_to_expire_is_replaced(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    checkout(client)
    with app.app_context():
        db.session.execute(update(Order).values(expires_at=utcnow() + timedelta(seconds=30)))
        db.session.commit()
    checkout(client)
    old, new = orders(app)
    assert old.status == "expired" and new.status == "pending"
    assert session_count(app, "open") == 1


def test_a_session_paid_before_the_webhook_arrived_is_reconciled_not_charged_again(
    app, client, user, seeded
):
    add(client, seeded["BEAN-ETH-250"])
    checkout(client)
    [order] = orders(app)
    pay(app, order.stripe_session_id)
    # As if the webhook had not arrived yet: the shop still thinks it is pending.
    with app.app_context():
        db.session.execute(update(Order).values(status="pending", paid_at=None))
        db.session.commit()
    add(client, seeded["MUG-STONE"])  # the cart changed, so checkout would replace it
    response = checkout(client)
    assert response.headers["HX-Redirect"] == "/orders"
    [order] = orders(app)
    assert order.status == "paid"
    assert session_count(app) == 1  # no second session, no second charge


@pytest.mark.parametrize("card_holder_clicks", [2, 20])
def test_parallel_checkouts_by_one_user_make_exactly_one_session(
    app, client, user, seeded, card_holder_clicks
):
    add(client, seeded["BEAN-ETH-250"], 3)
    cookie = client.get_cookie("session").value
    token = csrf_token(client)
    barrier = threading.Barrier(card_holder_clicks)
    answers: list = []

    def click():
        own = app.test_client()
        own.set_cookie("session", cookie)
        barrier.wait()
        answers.append(own.post("/checkout", headers={"HX-Request": "true", "X-CSRFToken": token}))

    threads = [threading.Thread(target=click) for _ in range(card_holder_clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [order] = orders(app)
    assert [a.status_code for a in answers] == [200] * card_holder_clicks
    assert {a.headers["HX-Redirect"] for a in answers} == {order.session_url}
    assert session_count(app) == 1


def test_empty_cart_is_refused_in_the_cart_modal(app, client, user):
    response = checkout(client)
    assert response.status_code == 409
    assert "Your cart is empty" in response.get_data(as_text=True)
    assert orders(app) == [] and session_count(app) == 0


def test_unavailable_product_blocks_checkout(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    with app.app_context():
        db.session.get(Product, seeded["BEAN-ETH-250"]).active = False
        db.session.commit()
    response = checkout(client)
    assert response.status_code == 409
    assert "no longer available" in response.get_data(as_text=True)
    assert orders(app) == [] and session_count(app) == 0


@pytest.mark.parametrize("kind", ["api_error", "timeout"])
def test_stripe_failure_frees_the_slot_and_says_nothing_was_charged(
    app, client, user, seeded, kind
):
    add(client, seeded["BEAN-ETH-250"])
    give_stripe_customer(app, user)
    with app.app_context():
        emulator.fail_next(kind)  # the emulator's client does not retry; real Stripe's does
    response = checkout(client)
    assert response.status_code == 503
    assert "Nothing was charged" in response.get_data(as_text=True)
    [failed] = orders(app)
    assert failed.status == "failed"
    retry = checkout(client)
    assert retry.status_code == 200
    assert orders(app)[1].status == "pending"


def test_a_pending_order_left_without_a_session_by_a_crash_is_replaced(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    with app.app_context():
        db.session.add(
            Order(
                user_id=user,
                status="pending",
                currency="usd",
                total_cents=1450,
                cart_fingerprint="x",
                created_at=utcnow() - timedelta(minutes=10),
            )
        )
        db.session.commit()
    response = checkout(client)
    assert response.status_code == 200
    crashed, new = orders(app)
    assert crashed.status == "failed" and new.status == "pending"


def test_checkout_needs_login_and_csrf(client, seeded):
    token = csrf_token(client)
    plain = client.post("/checkout", data={"csrf_token": token})
    assert plain.status_code == 303 and plain.headers["Location"] == "/login?next=/cart"
    htmx = client.post("/checkout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"] == "/login?next=/cart"
    assert client.post("/checkout").status_code == 400


def test_get_on_checkout_is_405(user, client):
    assert client.get("/checkout").status_code == 405


def test_cancel_page_shows_the_cart_and_says_nothing_was_charged(client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    html = client.get("/checkout/cancel").get_data(as_text=True)
    assert "nothing was charged" in html
    assert "Ethiopia Yirgacheffe" in html and "data-open" in html


def reserved(app, product_id: int) -> int:
    with app.app_context():
        return db.session.get(Product, product_id).reserved


def test_cancel_closes_the_session_at_once_and_puts_the_units_back(app, client, user, seeded):
    """Before: the order stayed "Awaiting payment" and its units held until expiry."""
    add(client, seeded["BEAN-ETH-250"], quantity=2)
    checkout(client)
    [order] = orders(app)
    assert reserved(app, seeded["BEAN-ETH-250"]) == 2
    html = client.get("/checkout/cancel").get_data(as_text=True)
    assert "nothing was charged" in html and "Ethiopia Yirgacheffe" in html  # the cart kept
    [order] = orders(app)
    assert order.status == "cancelled"
    assert stripe_session(app, order.stripe_session_id)["status"] == "expired"
    assert reserved(app, seeded["BEAN-ETH-250"]) == 0
    my_orders = client.get("/orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="cancelled"' in my_orders and "Awaiting payment" not in my_orders
    # Coming back again, or a new checkout, changes nothing more: a new session is made.
    assert "nothing was charged" in client.get("/checkout/cancel").get_data(as_text=True)
    checkout(client)
    assert [o.status for o in orders(app)] == ["cancelled", "pending"]
    assert session_count(app) == 2


def test_cancel_after_a_payment_shows_the_order_paid(app, client, user, seeded):
    """Paid on Stripe's page a moment before the customer clicked back: Stripe's word wins."""
    add(client, seeded["BEAN-ETH-250"])
    checkout(client)
    [order] = orders(app)
    pay(app, order.stripe_session_id)
    with app.app_context():  # as if the webhook had not arrived yet
        db.session.execute(update(Order).values(status="pending", paid_at=None))
        db.session.commit()
    html = client.get("/checkout/cancel").get_data(as_text=True)
    assert f"Order #{order.id} is paid" in html and "nothing was charged" not in html
    [order] = orders(app)
    assert order.status == "paid"
    assert session_count(app) == 1


def test_cancel_with_stripe_away_leaves_the_order_to_expire(app, client, user, seeded, monkeypatch):
    add(client, seeded["BEAN-ETH-250"])
    checkout(client)

    def away(session_id):
        raise gateway.PaymentsUnavailable("Stripe is not answering")

    monkeypatch.setattr(gateway, "expire_checkout_session", away)
    html = client.get("/checkout/cancel").get_data(as_text=True)
    assert "nothing was charged" in html and "closes by itself" in html
    [order] = orders(app)
    assert order.status == "pending"


def test_a_fresh_database_never_reuses_a_stripe_idempotency_key(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    checkout(client)
    [first] = orders(app)
    # The database is reset, Stripe (sharing the account) is not: its keys live on.
    with app.app_context():
        for table in ("order_events", "order_items", "orders"):
            db.session.execute(text(f"DELETE FROM {table}"))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"ALTER SEQUENCE orders_id_seq RESTART WITH {first.id}"))
        db.session.commit()
    add(client, seeded["MUG-STONE"])  # another cart: other parameters for Stripe
    response = checkout(client)
    assert response.status_code == 200, response.get_data(as_text=True)
    [second] = orders(app)
    assert second.id == first.id  # the same order number as yesterday's...
    assert second.checkout_key != first.checkout_key  # ...but not the same key
    with app.app_context():
        keys = list(
            db.session.scalars(
                text("SELECT key FROM emulator_idempotency_keys WHERE key LIKE 'checkout-%'")
            )
        )
    assert sorted(keys) == sorted(
        [f"checkout-{first.checkout_key}", f"checkout-{second.checkout_key}"]
    )


def dead_claim(app, user_id: int, seconds_ago: int = 10, lifetime_minutes: int = 31):
    """A pending order as a request leaves it that died between claiming the slot and
    recording Stripe's session: (order id, checkout key, expiry)."""
    from shop.cart.services import load_cart
    from shop.checkout import services

    with app.app_context():
        snapshot = services.Snapshot.of(load_cart(user_id, "usd"))
        claimed = services._claim_slot(
            user_id, snapshot, utcnow() + timedelta(minutes=lifetime_minutes)
        )
        db.session.execute(
            update(Order).values(created_at=utcnow() - timedelta(seconds=seconds_ago))
        )
        db.session.commit()
        return claimed


def test_a_claim_whose_request_died_is_taken_over_with_its_own_key(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    order_id, key, _ = dead_claim(app, user)
    response = checkout(client)
    assert response.status_code == 200
    [order] = orders(app)
    assert order.id == order_id and session_url(response) == order.session_url
    assert session_count(app) == 1
    with app.app_context():
        keys = list(
            db.session.scalars(
                text("SELECT key FROM emulator_idempotency_keys WHERE key LIKE 'checkout-%'")
            )
        )
    assert keys == [f"checkout-{key}"]


def test_a_taken_over_claim_gets_the_session_its_first_request_made(app, client, user, seeded):
    from shop import payments
    from shop.checkout import services

    add(client, seeded["BEAN-ETH-250"], 2)
    customer = give_stripe_customer(app, user)  # made before the claim, as a checkout does
    order_id, key, expires_at = dead_claim(app, user)
    with app.test_request_context():  # the first request reached Stripe, then died
        [order] = orders(app)
        items = tuple(
            services.Item(i.product_id, i.name, i.unit_price_cents, i.quantity) for i in order.items
        )
        urls = services.CheckoutUrls(
            success="http://localhost/checkout/success?session_id={CHECKOUT_SESSION_ID}",
            cancel="http://localhost/checkout/cancel",
        )
        request = services._request(
            order_id, user, "ada@example.com", "usd", items, urls, expires_at, None, customer,
            order.language,
        )  # fmt: skip
        made = payments.open_session(request, key)
    response = checkout(client)
    assert response.status_code == 200
    assert session_url(response) == made.url and session_count(app) == 1
    assert orders(app)[0].stripe_session_id == made.id


def test_a_claim_too_old_to_send_again_is_freed_instead(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    old_id, _, _ = dead_claim(app, user, seconds_ago=200, lifetime_minutes=28)
    response = checkout(client)
    assert response.status_code == 200
    old, new = orders(app)
    assert (old.id, old.status, new.status) == (old_id, "failed", "pending")
    assert session_count(app) == 1
