"""A customer switches to EUR, buys one product now from its dialog, pays on Stripe's page
and finds the order in EUR in My Orders, while the cart keeps its lines."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import (
    SESSION_PAGE,
    add,
    assert_accessible,
    card,
    open_cart,
    open_orders,
    open_product,
    pay,
    snap,
)
from shop.money import format_money

pytestmark = pytest.mark.browser


def test_switch_to_eur_buy_now_pay_and_the_cart_keeps_its_lines(signed_in, shop):
    page = signed_in
    beans, kettle = shop.products["BEAN-COL-250"], shop.products["GEAR-KETTLE"]
    add(page, beans.name, quantity=2)
    expect(page.locator("#cart-count")).to_have_text("2")

    page.get_by_role("button", name="Prices in EUR").click()
    expect(page.locator("#toasts")).to_contain_text("Prices are now in EUR.")
    expect(page.get_by_role("button", name="Prices in EUR")).to_have_attribute(
        "aria-pressed", "true"
    )
    eur = kettle.price_in("eur")
    expect(card(page, kettle.name)).to_have_attribute("data-currency", "eur")
    expect(card(page, kettle.name).locator(".price")).to_have_text(format_money(eur, "eur"))
    expect(page.locator("#cart-count")).to_have_text("2")
    assert_accessible(page, "grid in EUR")
    snap(page, "grid-eur")

    dialog = open_product(page, kettle.name)
    expect(dialog.locator(".product-price")).to_have_text(format_money(eur, "eur"))
    dialog.get_by_label(f"Quantity of {kettle.name}").fill("2")
    assert_accessible(page, "product dialog in EUR")
    dialog.get_by_role("button", name=re.compile("^Buy now")).click()

    expect(page).to_have_url(SESSION_PAGE)
    expect(page.locator(".checkout-total")).to_have_text(format_money(2 * eur, "eur"))
    pay(page)

    expect(page).to_have_url(re.compile(r"/checkout/success\?session_id=cs_\w+$"))
    orders = page.locator("#orders-dialog")
    expect(orders).to_be_visible()
    row = orders.locator(".order")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "paid")
    expect(row.locator(".order-total")).to_have_text(format_money(2 * eur, "eur"))
    expect(row).to_contain_text(f"2 × {kettle.name}")
    page.keyboard.press("Escape")
    expect(orders).to_be_hidden()

    expect(page.locator("#cart-count")).to_have_text("2")  # the cart was not touched
    cart = open_cart(page)
    expect(cart.locator(".cart-line")).to_have_count(1)
    expect(cart.locator(".subtotal strong")).to_have_text(
        format_money(2 * beans.price_in("eur"), "eur")
    )
    page.keyboard.press("Escape")
    expect(open_orders(page).locator(".order")).to_have_count(1)
