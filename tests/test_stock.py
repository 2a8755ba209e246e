"""Stock: what the grid and cart say, holds taken at checkout, released by every way out of
pending, sold on payment, and a late payment recorded (and flagged) rather than lost."""

import re
import threading
from datetime import timedelta

import pytest
from cart_helpers import HTMX, Shopper, login_client
from sqlalchemy import select, update

from checkout_helpers import (
    add,
    checkout,
    deliver,
    fixture_event,
    give_stripe_customer,
    orders,
    pay,
    session_url,
)
from conftest import csrf_token
from shop.catalog.models import Product
from shop.extensions import db
from shop.models import utcnow
from shop.orders import expiry
from shop.orders.models import Order, OrderEvent
from shop.payments import emulator

GRINDER = "Hand Grinder with Steel Burrs"


def level(app, product_id: int) -> tuple[int | None, int]:
    """(stock, reserved) of a product."""
    with app.app_context():
        product = db.session.get(Product, product_id)
        return product.stock, product.reserved


def set_stock(app, product_id: int, stock: int | None, reserved: int | None = None) -> None:
    """Put a product's stock (and reserved units) where a test wants them."""
    values = {"stock": stock} if reserved is None else {"stock": stock, "reserved": reserved}
    with app.app_context():
        db.session.execute(update(Product).where(Product.id == product_id).values(**values))
        db.session.commit()


def card_of(html: str, sku: str) -> str:
    """The grid card of one product."""
    match = re.search(rf'<li class="card" data-sku="{sku}".*?</li>', html, re.S)
    assert match, f"no card for {sku}"
    return match.group(0)


def customer(app, auth, email: str):
    """Another signed-in customer with their own client."""
    auth.create_user(email)
    return login_client(app, email)


def attention(app, order_id: int) -> str | None:
    """The admin's attention note on an order."""
    with app.app_context():
        return db.session.get(Order, order_id).attention


# --- the grid and the cart --------------------------------------------------------------------


def test_cards_carry_sku_and_availability(app, client, user, seeded):
    set_stock(app, seeded["GEAR-GRINDER"], 3)
    set_stock(app, seeded["TOTE-CANVAS"], 0)
    set_stock(app, seeded["MUG-STONE"], None)
    html = client.get("/").get_data(as_text=True)
    grinder = card_of(html, "GEAR-GRINDER")
    assert 'data-available="3"' in grinder and "Only 3 left" in grinder
    tote = card_of(html, "TOTE-CANVAS")
    assert 'data-available="0"' in tote and "Sold out" in tote
    assert re.search(r'<button [^>]*type="submit" disabled>Sold out<', tote)
    mug = card_of(html, "MUG-STONE")
    assert "data-available" not in mug and "left" not in mug and "Sold out" not in mug


def test_a_sold_out_add_is_refused_with_409_and_the_cart_unchanged(app, client, user, seeded):
    set_stock(app, seeded["TOTE-CANVAS"], 0)
    shopper = Shopper(client)
    fragment = shopper.add(seeded["TOTE-CANVAS"], 1, htmx=True)
    assert fragment.status_code == 409
    assert "sold out" in fragment.get_data(as_text=True)
    page = shopper.add(seeded["TOTE-CANVAS"], 1)
    assert page.status_code == 409 and "sold out" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Order)) == 0
    assert "cart-line" not in client.get("/cart", headers=HTMX).get_data(as_text=True)


def test_an_add_is_capped_at_what_is_left_and_says_so(app, client, auth, user, seeded):
    set_stock(app, seeded["GEAR-GRINDER"], 3)
    shopper = Shopper(client)
    first = shopper.add(seeded["GEAR-GRINDER"], 2, htmx=True).get_data(as_text=True)
    assert "You have 2 ×" in first
    capped = shopper.add(seeded["GEAR-GRINDER"], 5, htmx=True).get_data(as_text=True)
    assert "You have 3 ×" in capped and "only 3 left" in capped
    other = Shopper(customer(app, auth, "bo@example.com"))  # a first add, capped as well
    assert "You have 3 ×" in other.add(seeded["GEAR-GRINDER"], 9, htmx=True).get_data(as_text=True)


def test_the_cart_shows_a_line_that_sold_down_and_checkout_names_it(app, client, user, seeded):
    add(client, seeded["GEAR-GRINDER"], 3)
    set_stock(app, seeded["GEAR-GRINDER"], 1)  # sold elsewhere since
    cart = client.get("/cart", headers=HTMX).get_data(as_text=True)
    assert "Only 1 left: lower the quantity to check out." in cart
    assert re.search(r'<button class="button" type="submit"[^>]* disabled>Checkout</button>', cart)
    response = checkout(client)
    assert response.status_code == 409
    assert f"Only 1 of {GRINDER} left" in response.get_data(as_text=True)
    assert orders(app) == [] and level(app, seeded["GEAR-GRINDER"]) == (1, 0)


# --- holds ------------------------------------------------------------------------------------


def test_checkout_holds_the_units_and_resuming_does_not_count_them_twice(app, client, user, seeded):
    set_stock(app, seeded["GEAR-GRINDER"], 3)
    add(client, seeded["GEAR-GRINDER"], 3)
    first = session_url(checkout(client))
    assert level(app, seeded["GEAR-GRINDER"]) == (3, 3)
    assert 'data-available="0"' in card_of(client.get("/").get_data(as_text=True), "GEAR-GRINDER")
    # The customer's own hold is theirs: the cart is not "short", the session resumes.
    assert "left" not in client.get("/cart", headers=HTMX).get_data(as_text=True)
    assert session_url(checkout(client)) == first
    assert level(app, seeded["GEAR-GRINDER"]) == (3, 3)


def test_a_replaced_checkout_releases_the_old_hold_and_holds_the_new_cart(
    app, client, user, seeded
):
    add(client, seeded["GEAR-GRINDER"], 2)
    checkout(client)
    add(client, seeded["MUG-STONE"], 1)
    checkout(client)
    old, new = orders(app)
    assert (old.status, old.stock_hold, new.stock_hold) == ("cancelled", "released", "held")
    assert level(app, seeded["GEAR-GRINDER"])[1] == 2  # 2 released, 2 held again
    assert level(app, seeded["MUG-STONE"])[1] == 1


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("checkout.session.expired.json", "expired"),
        ("checkout.session.async_payment_failed.json", "failed"),
    ],
)
def test_expiry_and_failure_release_the_hold(app, client, order, seeded, fixture, status):
    assert level(app, seeded["BEAN-ETH-250"])[1] == 2
    deliver(client, app, fixture_event(fixture, order, f"evt_{status}"))
    deliver(client, app, fixture_event(fixture, order, f"evt_{status}"))  # a duplicate
    [settled] = orders(app)
    assert (settled.status, settled.stock_hold) == (status, "released")
    assert level(app, seeded["BEAN-ETH-250"]) == (500, 0)
    assert level(app, seeded["MUG-STONE"]) == (400, 0)


def test_a_stripe_outage_at_checkout_releases_the_hold(app, client, user, seeded):
    add(client, seeded["GEAR-GRINDER"], 2)
    give_stripe_customer(app, user)
    with app.app_context():
        emulator.fail_next("api_error")
    assert checkout(client).status_code == 503
    [failed] = orders(app)
    assert (failed.status, failed.stock_hold) == ("failed", "released")
    assert level(app, seeded["GEAR-GRINDER"]) == (3, 0)


def test_payment_sells_the_held_units_once(app, client, order, seeded):
    pay(app, order.stripe_session_id)
    client.get(f"/checkout/success?session_id={order.stripe_session_id}")
    [paid] = orders(app)
    assert (paid.status, paid.stock_hold) == ("paid", "sold")
    assert level(app, seeded["BEAN-ETH-250"]) == (498, 0)
    assert level(app, seeded["MUG-STONE"]) == (399, 0)
    assert attention(app, order.id) is None


def test_a_late_payment_is_recorded_sells_anyway_and_flags_the_order(app, client, order, seeded):
    deliver(client, app, fixture_event("checkout.session.expired.json", order, "evt_exp"))
    set_stock(app, seeded["BEAN-ETH-250"], 1)  # meanwhile others bought most of it
    deliver(client, app, fixture_event("checkout.session.completed.json", order, "evt_late"))
    [paid] = orders(app)
    assert (paid.status, paid.stock_hold) == ("paid", "sold_late")
    assert level(app, seeded["BEAN-ETH-250"]) == (-1, 0)  # oversold by the late payment
    assert "Paid after its stock hold was released" in attention(app, order.id)
    with app.app_context():
        kinds = list(
            db.session.scalars(
                select(OrderEvent.kind)
                .where(OrderEvent.order_id == order.id)
                .order_by(OrderEvent.id)
            )
        )
    assert kinds == ["created", "expired", "paid", "attention"]


# --- overdue holds, with no webhook -----------------------------------------------------------


def backdate(app, order_id: int, minutes: int) -> None:
    """Make an order's session look `minutes` past its expiry (the shop's view of it)."""
    with app.app_context():
        db.session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(expires_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def test_the_worker_duty_expires_overdue_orders_and_releases_their_units(app, order, seeded):
    backdate(app, order.id, 2)
    with app.app_context():
        report = expiry.settle_overdue()  # asks Stripe: the session is open, so it closes it
    assert report.expired == [order.id]
    [expired] = orders(app)
    assert (expired.status, expired.stock_hold) == ("expired", "released")
    assert level(app, seeded["BEAN-ETH-250"])[1] == 0
    with app.app_context():
        assert emulator.count_sessions("expired") == 1


def test_the_worker_duty_fulfils_an_overdue_order_stripe_says_is_paid(app, order, seeded):
    pay_quietly(app, order.stripe_session_id)
    backdate(app, order.id, 2)
    with app.app_context():
        report = expiry.settle_overdue()
    assert report.paid == [order.id]
    assert orders(app)[0].stock_hold == "sold" and attention(app, order.id) is None


def pay_quietly(app, session_id: str) -> None:
    """The customer pays at Stripe and the webhook never arrives."""
    with app.app_context():
        from shop.payments.emulator import store

        with store.transaction() as s:
            store.complete_session(s, session_id, int(utcnow().timestamp()))


def the_last_grinder_held(app, auth, seeded):
    """The last grinder held by a first customer's checkout; a second one wants it too:
    (the second customer's client, the first's order)."""
    set_stock(app, seeded["GEAR-GRINDER"], 1)
    first = customer(app, auth, "first@example.com")
    second = customer(app, auth, "second@example.com")
    add(first, seeded["GEAR-GRINDER"], 1)
    add(second, seeded["GEAR-GRINDER"], 1)
    checkout(first)
    [held] = orders(app)
    return second, held


def test_a_short_checkout_frees_long_overdue_holds_on_the_spot(app, client, auth, seeded):
    second, held = the_last_grinder_held(app, auth, seeded)
    refused = checkout(second)
    assert refused.status_code == 409  # held, and not yet overdue
    assert f"{GRINDER} is sold out" in refused.get_data(as_text=True)
    backdate(app, held.id, 10)  # long past expiry, no webhook, no worker
    response = checkout(second)
    assert response.status_code == 200
    old, new = orders(app)
    assert (old.status, old.stock_hold, new.stock_hold) == ("expired", "released", "held")
    assert level(app, seeded["GEAR-GRINDER"]) == (1, 1)


def crash_before_the_session(app, order_id: int, minutes: int) -> None:
    """As if the request claiming the order died before recording Stripe's answer (a killed
    dyno), `minutes` ago: pending, units held, no session."""
    with app.app_context():
        db.session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(stripe_session_id=None, created_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def test_the_worker_duty_frees_the_units_of_a_claim_left_by_a_crash(app, order, seeded):
    # Found by the sale-day rehearsal (issue #23): a dyno SIGKILLed mid-checkout left a
    # pending order without a session holding its units until its customer came back,
    # which a customer who gives up never does.
    crash_before_the_session(app, order.id, 1)
    with app.app_context():
        assert expiry.settle_overdue().failed == []  # its request may still be running
    crash_before_the_session(app, order.id, 3)
    with app.app_context():
        report = expiry.settle_overdue()
    assert report.failed == [order.id]
    [failed] = orders(app)
    assert (failed.status, failed.stock_hold) == ("failed", "released")
    assert level(app, seeded["BEAN-ETH-250"])[1] == 0
    with app.app_context():
        note = db.session.scalar(select(OrderEvent.note).where(OrderEvent.kind == "failed"))
    assert note.startswith("the checkout stopped before Stripe answered")


def test_a_short_checkout_frees_units_held_by_a_claim_left_by_a_crash(app, client, auth, seeded):
    second, held = the_last_grinder_held(app, auth, seeded)
    crash_before_the_session(app, held.id, 3)
    assert checkout(second).status_code == 200
    old, new = orders(app)
    assert (old.status, old.stock_hold, new.stock_hold) == ("failed", "released", "held")


def test_the_cli_runs_the_same_duty(app, runner, order):
    backdate(app, order.id, 2)
    result = runner.invoke(args=["orders", "expire-overdue"])
    assert result.exit_code == 0, result.output
    assert f"expired: 1 (orders {order.id})" in result.output


# --- races ------------------------------------------------------------------------------------


def test_customers_racing_for_the_last_units_never_oversell(app, auth, seeded):
    set_stock(app, seeded["GEAR-GRINDER"], 3)
    clients = [customer(app, auth, f"c{n}@example.com") for n in range(8)]
    for one in clients:
        add(one, seeded["GEAR-GRINDER"], 1)
    tokens = [csrf_token(one) for one in clients]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def go(n: int) -> None:
        barrier.wait()
        headers = {"HX-Request": "true", "X-CSRFToken": tokens[n]}
        statuses.append(clients[n].post("/checkout", headers=headers).status_code)

    threads = [threading.Thread(target=go, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 3 + [409] * 5
    assert level(app, seeded["GEAR-GRINDER"]) == (3, 3)
    assert sum(1 for o in orders(app) if o.stock_hold == "held") == 3


def test_the_product_page_says_what_is_left(app, client, user, seeded):
    set_stock(app, seeded["GEAR-GRINDER"], 2)
    page = client.get("/products/GEAR-GRINDER").get_data(as_text=True)
    assert 'data-available="2"' in page and "Only 2 left" in page
    set_stock(app, seeded["GEAR-GRINDER"], 0)
    page = client.get("/products/GEAR-GRINDER", headers=HTMX).get_data(as_text=True)
    assert "Sold out" in page and re.search(r'type="submit" disabled>Sold out', page)
    assert "In stock" in client.get("/products/MUG-STONE").get_data(as_text=True)


def test_the_hold_machine_is_declared_once_and_keeps_the_counters_balanced():
    from shop.orders.models import StockHold as H
    from shop.orders.stock import HOLD_MOVES

    # Every state but "none" is reached, and nothing goes back to "none" or "held".
    assert {target for _, target in HOLD_MOVES} == set(H) - {H.NONE}
    assert all(target is not H.HELD or source is H.NONE for source, target in HOLD_MOVES)
    # Along each path from "none" the reserved counter comes back to zero, and stock is
    # down by one per unit exactly while the units are sold.
    paths = {
        (H.NONE, H.HELD, H.RELEASED): 0,
        (H.NONE, H.HELD, H.SOLD): -1,
        (H.NONE, H.HELD, H.SOLD, H.RETURNED): 0,
        (H.NONE, H.HELD, H.RELEASED, H.SOLD_LATE): -1,
        (H.NONE, H.HELD, H.RELEASED, H.SOLD_LATE, H.RETURNED): 0,
    }
    for path, stock_moved in paths.items():
        steps = [HOLD_MOVES[a, b] for a, b in zip(path, path[1:], strict=False)]
        assert sum(stock for stock, _ in steps) == stock_moved, path
        assert sum(reserved for _, reserved in steps) == (1 if path[-1] is H.HELD else 0), path


def test_a_hold_move_outside_the_table_is_refused(app):
    from shop.orders.models import StockHold as H
    from shop.orders.stock import _move_hold

    with app.app_context(), pytest.raises(ValueError, match="never moves from sold to held"):
        _move_hold(1, H.SOLD, H.HELD)
