"""Buy now (POST /products/<sku>/buy): one product's own Checkout Session, under the same
one-pending rule, stock holds and currencies as a cart checkout, the cart left untouched."""

import pytest
from cart_helpers import HTMX, cart_lines, fill_cart, set_active
from sqlalchemy import select

from checkout_helpers import checkout, orders, pay, session_url
from conftest import csrf_token
from shop.catalog.models import Product
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.emulator.models import EmulatorSession

SKU = "GEAR-KETTLE"


def buy(client, sku=SKU, htmx=True, **fields):
    """Press Buy now on a product's page."""
    token = csrf_token(client)
    if htmx:
        headers = {**HTMX, "X-CSRFToken": token}
        return client.post(f"/products/{sku}/buy", data=fields, headers=headers)
    return client.post(f"/products/{sku}/buy", data={**fields, "csrf_token": token})


def sessions(app) -> list[EmulatorSession]:
    with app.app_context():
        found = list(db.session.scalars(select(EmulatorSession).order_by(EmulatorSession.id)))
        db.session.expunge_all()
        return found


def product(app, sku=SKU) -> Product:
    with app.app_context():
        found = db.session.scalar(select(Product).where(Product.sku == sku))
        db.session.expunge(found)
        return found


def test_buy_now_opens_a_session_for_that_product_alone_and_leaves_the_cart(
    app, client, user, seeded
):
    fill_cart(app, user, [seeded["MUG-STONE"], seeded[SKU]], quantity=2)
    before = cart_lines(app, user)
    response = buy(client, quantity="3")
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("http://localhost/emulator/checkout/cs_")
    [order] = orders(app, user)
    kettle = product(app)
    assert order.from_cart is False and order.status == OrderStatus.PENDING
    assert [(i.product_id, i.quantity) for i in order.items] == [(seeded[SKU], 3)]
    assert order.total_cents == 3 * kettle.price_in("usd")
    [session] = sessions(app)
    assert (session.currency, session.amount_subtotal) == ("usd", 3 * kettle.price_in("usd"))
    assert product(app).reserved == kettle.reserved == 3  # held as a cart checkout holds
    assert cart_lines(app, user) == before
    pay(app, session.id)
    [paid] = orders(app, user)
    assert paid.status == OrderStatus.PAID
    assert cart_lines(app, user) == before  # fulfilment took nothing out of the cart
    listed = client.get("/orders", headers=HTMX).get_data(as_text=True)
    assert f'data-order-id="{paid.id}"' in listed


def test_without_js_it_is_a_303_to_stripe_and_quantity_defaults_to_1(app, client, user, seeded):
    response = buy(client, htmx=False)
    assert response.status_code == 303
    assert "/emulator/checkout/cs_" in response.headers["Location"]
    [order] = orders(app, user)
    assert [i.quantity for i in order.items] == [1]


def test_buy_now_in_eur_by_the_field_or_the_customers_currency(app, client, user, seeded):
    buy(client, currency="EUR")
    [order] = orders(app, user)
    assert (order.currency, order.total_cents) == ("eur", product(app).price_in("eur"))
    token = csrf_token(client)
    client.post("/currency", data={"currency": "eur", "csrf_token": token})
    assert session_url(buy(client)) == session_url(buy(client, currency="eur"))  # resumed
    assert len(orders(app, user)) == 1


def test_a_repeat_resumes_and_another_buy_or_the_cart_replaces(app, client, user, seeded):
    first = session_url(buy(client, quantity="2"))
    assert session_url(buy(client, quantity="2")) == first  # the same buy: resumed
    assert len(sessions(app)) == 1
    second = session_url(buy(client, quantity="1"))  # another buy: replaces it
    assert second != first
    fill_cart(app, user, [seeded["MUG-STONE"]])
    third = session_url(checkout(client))  # the cart's checkout replaces the buy
    assert third not in (first, second)
    statuses = [o.status for o in orders(app, user)]
    assert statuses == [OrderStatus.CANCELLED, OrderStatus.CANCELLED, OrderStatus.PENDING]
    assert sorted(s.status for s in sessions(app)) == ["expired", "expired", "open"]
    assert session_url(buy(client, quantity="2")) not in (first, second, third)
    assert product(app).reserved == 2  # only the open buy holds units


@pytest.mark.parametrize("quantity", ["0", "-1", "1e3", "2.5", "abc", "", "11", "9" * 50])
def test_a_bad_quantity_is_422_and_nothing_is_started(app, client, user, seeded, quantity):
    response = buy(client, quantity=quantity)
    assert response.status_code == 422
    assert "whole number of items from 1 to 10" in response.get_data(as_text=True)
    plain = buy(client, htmx=False, quantity=quantity)
    assert plain.status_code == 422
    assert "whole number of items from 1 to 10" in plain.get_data(as_text=True)
    assert orders(app, user) == [] and sessions(app) == []


@pytest.mark.parametrize("currency", ["gbp", "", "dollars"])
def test_an_unknown_currency_is_422(app, client, user, seeded, currency):
    response = buy(client, currency=currency)
    assert response.status_code == 422
    assert "Choose a currency the shop sells in: USD or EUR." in response.get_data(as_text=True)
    assert orders(app, user) == []


def test_an_unknown_or_hidden_product_is_404(app, client, user, seeded):
    assert buy(client, sku="NOPE").status_code == 404
    assert buy(client, sku="x" * 300, htmx=False).status_code == 404
    set_active(app, seeded[SKU], False)
    assert buy(client).status_code == 404
    assert orders(app, user) == []


def test_a_sold_out_product_or_too_many_is_409_saying_so(app, client, user, seeded):
    with app.app_context():
        db.session.get(Product, seeded[SKU]).stock = 2
        db.session.commit()
    too_many = buy(client, quantity="3")
    assert too_many.status_code == 409
    assert "Only 2 of" in too_many.get_data(as_text=True)
    assert "buy at most 2" in too_many.get_data(as_text=True)
    with app.app_context():
        db.session.get(Product, seeded[SKU]).stock = 0
        db.session.commit()
    sold_out = buy(client, htmx=False)
    assert sold_out.status_code == 409
    assert "is sold out." in sold_out.get_data(as_text=True)
    assert [o.status for o in orders(app, user)] == []


def test_a_product_without_a_price_in_the_currency_is_409(app, client, user, seeded):
    with app.app_context():
        db.session.get(Product, seeded[SKU]).set_prices({"usd": 3000})
        db.session.commit()
    response = buy(client, currency="eur")
    assert response.status_code == 409
    assert "is not sold in EUR." in response.get_data(as_text=True)


def test_a_visitor_is_sent_to_log_in(client, seeded):
    token = csrf_token(client)
    plain = client.post(f"/products/{SKU}/buy", data={"csrf_token": token})
    assert plain.status_code == 302 and plain.headers["Location"].startswith("/login?next=")
    htmx = client.post(f"/products/{SKU}/buy", headers={**HTMX, "X-CSRFToken": token})
    assert htmx.status_code == 401


def test_buy_now_needs_a_csrf_token_and_a_post(client, user, seeded):
    assert client.post(f"/products/{SKU}/buy").status_code == 400
    assert client.get(f"/products/{SKU}/buy").status_code == 405


def test_the_product_page_and_dialog_have_buy_now_beside_add(client, user, seeded):
    for headers in ({}, HTMX):
        html = client.get(f"/products/{SKU}", headers=headers).get_data(as_text=True)
        assert f'formaction="/products/{SKU}/buy"' in html
        assert f'hx-post="/products/{SKU}/buy"' in html
        assert 'name="currency" value="usd"' in html and ">Buy now<" in html
    grid = client.get("/").get_data(as_text=True)
    assert "Buy now" not in grid  # the cards keep one button
