"""Prices per currency: the switch (POST /currency), what each page shows in it, and the
cart and checkout priced in the customer's currency, never converted."""

import re

import pytest
from cart_helpers import HTMX, badge, fill_cart
from sqlalchemy import select

from checkout_helpers import checkout, orders, pay, session_url
from conftest import csrf_token
from shop.auth.models import User
from shop.catalog.models import Product
from shop.extensions import db
from shop.payments.emulator.models import EmulatorSession

BEANS = "BEAN-COL-250"


def switch(client, currency, htmx=False, **extra):
    """Press a currency button in the header."""
    token = csrf_token(client)
    headers = {**HTMX, "X-CSRFToken": token} if htmx else {}
    data = {"currency": currency, **extra} if htmx else {"currency": currency, "csrf_token": token}
    return client.post("/currency", data=data, headers=headers)


def card(html: str, sku: str) -> str:
    """The opening tag of a product's card."""
    return re.search(rf'<li class="card" data-sku="{sku}"[^>]*>', html).group(0)


def price_of(app, sku: str, currency: str) -> int:
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.sku == sku))
        return product.price_in(currency)


def test_a_visitor_sees_the_default_currency_and_switches_without_js(app, client, seeded):
    page = client.get("/").get_data(as_text=True)
    assert 'data-currency="usd"' in card(page, BEANS)
    assert f'data-price-cents="{price_of(app, BEANS, "usd")}"' in card(page, BEANS)
    assert 'value="usd" aria-pressed="true"' in page
    response = switch(client, "EUR", headers={"Referer": "http://localhost/products/BEAN-COL-250"})
    assert response.status_code == 303
    page = client.get("/").get_data(as_text=True)
    eur = price_of(app, BEANS, "eur")
    assert f'data-currency="eur" data-price-cents="{eur}"' in card(page, BEANS)
    assert "Prices are now in EUR." in page
    assert 'value="eur" aria-pressed="true"' in page
    assert "€12.50" not in page or eur == 1250
    assert f"€{eur // 100}.{eur % 100:02d}" in page


def test_the_plain_switch_goes_back_to_the_page_it_was_pressed_on(client, seeded):
    token = csrf_token(client)
    back = client.post(
        "/currency",
        data={"currency": "eur", "csrf_token": token},
        headers={"Referer": "http://localhost/products/BEAN-COL-250"},
    )
    assert back.headers["Location"] == "/products/BEAN-COL-250"
    elsewhere = client.post(
        "/currency",
        data={"currency": "usd", "csrf_token": token},
        headers={"Referer": "https://evil.example/phish"},
    )
    assert elsewhere.headers["Location"] == "/"


def test_htmx_gets_the_grid_repriced_with_the_switch_and_a_note(app, client, user, seeded):
    fill_cart(app, user, [seeded[BEANS]], quantity=2)
    response = switch(client, "eur", htmx=True, q="colombia")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="grid"')
    assert 'data-currency="eur"' in card(html, BEANS)
    assert html.count('class="card"') == 1  # the search is kept
    assert 'id="currency-switch"' in html and 'hx-swap-oob="true"' in html
    assert badge(html) == "2"
    assert "Your cart is re-priced in EUR; its quantities are kept." in html
    with app.app_context():
        assert db.session.get(User, user).currency == "eur"


@pytest.mark.parametrize("bad", ["gbp", "", "e", "euros", "usd,eur", "€"])
def test_a_bad_currency_is_422_and_nothing_changes(app, client, user, seeded, bad):
    response = switch(client, bad)
    assert response.status_code == 422
    assert "The shop sells in USD or EUR" in response.get_data(as_text=True)
    htmx = switch(client, bad, htmx=True)
    assert htmx.status_code == 422 and htmx.headers["HX-Retarget"] == "#toasts"
    with app.app_context():
        assert db.session.get(User, user).currency is None
    assert 'data-currency="usd"' in card(client.get("/").get_data(as_text=True), BEANS)


def test_a_missing_currency_is_422_and_the_switch_needs_a_csrf_token(client, seeded):
    assert client.post("/currency", data={"csrf_token": csrf_token(client)}).status_code == 422
    assert client.post("/currency", data={"currency": "eur"}).status_code == 400


def test_the_account_remembers_the_currency_on_another_device(app, client, auth, user, seeded):
    switch(client, "eur")
    other = app.test_client()
    token = csrf_token(other, "/login")
    other.post("/login", data={"email": "ada@example.com", "password": "correct horse battery",
                               "csrf_token": token})  # fmt: skip
    assert 'data-currency="eur"' in card(other.get("/").get_data(as_text=True), BEANS)


def test_a_visitors_choice_carries_over_the_login(app, client, auth, seeded):
    auth.create_user()
    switch(client, "eur")
    auth.login()
    assert 'data-currency="eur"' in card(client.get("/").get_data(as_text=True), BEANS)


def test_the_switch_is_on_every_page(client, user, seeded):
    for path in ("/", "/products/BEAN-COL-250", "/cart", "/orders", "/account", "/nope"):
        assert 'id="currency-switch"' in client.get(path).get_data(as_text=True), path


def test_the_cart_is_repriced_on_a_switch_and_checks_out_in_that_currency(
    app, client, user, seeded
):
    fill_cart(app, user, [seeded[BEANS]], quantity=2)
    usd = client.get("/cart", headers=HTMX).get_data(as_text=True)
    assert f'data-subtotal-cents="{2 * price_of(app, BEANS, "usd")}"' in usd
    switch(client, "eur")
    eur_price = price_of(app, BEANS, "eur")
    eur = client.get("/cart", headers=HTMX).get_data(as_text=True)
    assert f'data-subtotal-cents="{2 * eur_price}"' in eur
    response = checkout(client)
    with app.app_context():
        session = db.session.scalar(select(EmulatorSession))
        assert (session.currency, session.amount_subtotal) == ("eur", 2 * eur_price)
    [order] = orders(app, user)
    assert (order.currency, order.total_cents) == ("eur", 2 * eur_price)
    pay(app, session_url(response).rsplit("/", 1)[-1])
    listed = client.get("/orders", headers=HTMX).get_data(as_text=True)
    assert f"€{2 * eur_price // 100}." in listed


def test_a_product_without_a_price_in_the_currency_is_shown_but_not_sold(app, client, user, seeded):
    with app.app_context():
        product = db.session.get(Product, seeded[BEANS])
        product.set_prices({"usd": 1250})
        db.session.commit()
    fill_cart(app, user, [seeded[BEANS], seeded["MUG-STONE"]])
    switch(client, "eur")
    page = client.get("/").get_data(as_text=True)
    shown = page[page.index(card(page, BEANS)) :].split("</li>", 1)[0]
    assert "data-price-cents" not in card(page, BEANS)
    assert "Not sold in EUR" in shown and "disabled" in shown
    token = csrf_token(client)
    refused = client.post(
        "/cart/items",
        data={"product_id": seeded[BEANS], "quantity": 1, "csrf_token": token},
        headers=HTMX,
    )
    assert refused.status_code == 409
    assert "is not sold in EUR; switch currency to buy it." in refused.get_data(as_text=True)
    cart = client.get("/cart", headers=HTMX).get_data(as_text=True)
    assert "Not sold in EUR: not included in the total." in cart
    assert checkout(client).status_code == 409  # the cart cannot be checked out in EUR
    switch(client, "usd")
    assert checkout(client).status_code == 200


def test_the_product_page_shows_its_price_in_the_currency(app, client, seeded):
    switch(client, "eur")
    page = client.get("/products/BEAN-COL-250").get_data(as_text=True)
    eur = price_of(app, BEANS, "eur")
    assert f'data-currency="eur" data-price-cents="{eur}"' in page
    assert f"€{eur // 100}.{eur % 100:02d}" in page


def test_the_admin_products_page_lists_every_currency(app, admin, seeded):
    page = admin.client.get("/admin/products").get_data(as_text=True)
    row = page[page.index('data-sku="BEAN-COL-250"') :].split("</tr>", 1)[0]
    assert '<span class="admin-price" data-currency="usd">$' in row
    assert '<span class="admin-price" data-currency="eur">€' in row


def test_shop_currencies_is_checked_at_start_up():
    from shop.config import ConfigError, shop_currencies

    assert shop_currencies(None) == ("usd", "eur")
    assert shop_currencies(" EUR , usd ") == ("eur", "usd")
    for bad in ("", "usd,,eur", "usd,usd", "dollar"):
        with pytest.raises(ConfigError, match="SHOP_CURRENCIES"):
            shop_currencies(bad)
