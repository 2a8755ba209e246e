"""With JavaScript off, the same purchase completes through plain forms and redirects."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import card, log_in, snap
from shop.money import format_money

pytestmark = pytest.mark.browser


@pytest.fixture
def page(new_context):
    """A desktop tab with JavaScript disabled."""
    return new_context(java_script_enabled=False).new_page()


def test_a_purchase_completes_through_plain_forms(page, customer, shop):
    log_in(page, customer)
    beans = shop.products["BEAN-COL-250"]
    tote = shop.products["TOTE-CANVAS"]
    cart = page.locator("#cart-dialog")

    card(page, beans.name).get_by_role("button", name="Add").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(cart).to_be_in_viewport()  # opened by the server: <dialog open>
    expect(cart.locator(".cart-line")).to_have_count(1)
    expect(page.locator(".flash")).to_contain_text(f"1 × {beans.name}")
    expect(page.locator("#cart-count")).to_have_text("1")

    card(page, tote.name).get_by_role("button", name="Add").click()
    expect(cart.locator(".cart-line")).to_have_count(2)
    beans_line = cart.locator(".cart-line").filter(has_text=beans.name)
    beans_line.get_by_label(f"Quantity of {beans.name}").fill("3")
    beans_line.get_by_role("button", name="Update").click()
    expect(page.locator(".flash")).to_have_text("Your cart is updated.")
    expect(page.locator("#cart-count")).to_have_text("4")
    cart.get_by_role("button", name=f"Remove {tote.name}").click()
    expect(cart.locator(".cart-line")).to_have_count(1)
    expect(page.locator("#cart-count")).to_have_text("3")
    total = format_money(3 * beans.price_in("usd"), "usd")
    expect(cart.locator("[data-subtotal-cents]")).to_have_text(total)
    snap(page, "no-js-cart")

    cart.get_by_role("button", name="Checkout").click()
    expect(page).to_have_url(re.compile(r"/emulator/checkout/cs_\w+$"))
    expect(page.locator(".checkout-total")).to_have_text(total)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    expect(page).to_have_url(re.compile(r"/checkout/success\?session_id=cs_\w+$"))
    orders = page.locator("#orders-dialog")
    expect(orders).to_be_in_viewport()
    expect(orders.locator(".order")).to_have_attribute("data-status", "paid")
    expect(orders.locator(".order .status")).to_have_text("Paid")
    expect(page.locator("#cart-count")).to_have_text("0")
    snap(page, "no-js-orders-paid")

    orders.get_by_role("button", name="Close My Orders").click()  # <form method="dialog">
    expect(orders).to_be_hidden()
    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    expect(cart.locator(".cart-empty")).to_be_visible()


def test_a_product_is_a_page_of_its_own_and_its_form_adds_to_the_cart(page, customer, shop):
    log_in(page, customer)
    grinder = shop.products["GEAR-GRINDER"]
    card(page, grinder.name).get_by_role("link", name=grinder.name).click()
    expect(page).to_have_url(re.compile(r"/products/GEAR-GRINDER$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(grinder.name)
    expect(page).to_have_title(f"{grinder.name} · Northside Roastery")
    expect(page.locator(".product-price")).to_have_text(
        format_money(grinder.price_in("usd"), "usd")
    )
    snap(page, "no-js-product-page")
    page.get_by_label(f"Quantity of {grinder.name}").fill("2")
    page.get_by_role("button", name=f"Add {grinder.name} to cart").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.locator("#cart-dialog .cart-line")).to_have_count(1)
    expect(page.locator("#cart-count")).to_have_text("2")

    page.goto("/products/GEAR-GRINDER")
    page.get_by_role("link", name="← All products").click()
    expect(page).to_have_url(re.compile(r"/$"))
