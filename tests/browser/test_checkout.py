"""A customer checks out on the emulator's hosted page: pays, is declined, cancels, resumes."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from browser.helpers import (
    DECLINED,
    SESSION_PAGE,
    add,
    check_out_one,
    open_cart,
    open_orders,
    pay,
    snap,
    until_modal,
)
from shop.catalog.models import Product
from shop.money import format_money
from shop.orders.models import Order
from shop.payments.emulator.models import EmulatorSession

pytestmark = pytest.mark.browser


def test_paying_brings_the_customer_back_to_my_orders_showing_paid(signed_in, shop):
    page = signed_in
    kettle, mug = shop.products["GEAR-KETTLE"], shop.products["MUG-STONE"]
    add(page, kettle.name, quantity=2)
    expect(page.locator("#cart-count")).to_have_text("2")
    add(page, mug.name)
    expect(page.locator("#cart-count")).to_have_text("3")
    total = format_money(2 * kettle.price_in("usd") + mug.price_in("usd"), "usd")

    open_cart(page).get_by_role("button", name="Checkout").click()
    expect(page).to_have_url(SESSION_PAGE)
    expect(page.get_by_role("heading", name="Pay Northside Roastery")).to_be_visible()
    expect(page.locator(".checkout-total")).to_have_text(total)
    expect(page.get_by_role("cell", name=kettle.name)).to_be_visible()
    snap(page, "emulator-checkout")
    pay(page)

    expect(page).to_have_url(re.compile(r"/checkout/success\?session_id=cs_\w+$"))
    orders = page.locator("#orders-dialog")
    expect(orders).to_be_visible()
    until_modal(page, "orders-dialog")  # shop.js makes the server-opened dialog modal
    expect(orders.get_by_role("status")).to_contain_text("is paid")
    row = orders.locator(".order")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "paid")
    expect(row.locator(".status")).to_have_text("Paid")
    expect(row.locator(".order-total")).to_have_text(total)
    expect(row).to_contain_text(f"2 × {kettle.name}")
    expect(row.get_by_role("link", name="Resume payment")).to_have_count(0)
    snap(page, "orders-paid")

    expect(page.locator("#cart-count")).to_have_text("0")
    page.keyboard.press("Escape")
    expect(orders).to_be_hidden()
    expect(open_cart(page).locator(".cart-empty")).to_contain_text("Your cart is empty")


def test_declined_card_then_cancel_closes_the_order_and_a_new_checkout_pays(
    signed_in, shop, problems
):
    problems.allow_status(402, r"/emulator/checkout/cs_\w+")  # the declined card, on purpose
    page = signed_in
    session_url = check_out_one(page, shop.products["GEAR-GRINDER"].name)

    pay(page, DECLINED)
    expect(page.get_by_role("alert")).to_have_text("Your card was declined. Nothing was charged.")
    snap(page, "emulator-declined")
    page.get_by_role("link", name="Cancel").click()

    expect(page).to_have_url(re.compile(r"/checkout/cancel$"))
    cart = page.locator("#cart-dialog")
    expect(cart).to_be_visible()
    expect(cart.get_by_role("status")).to_contain_text("nothing was charged")
    expect(cart.locator(".cart-line")).to_have_count(1)
    expect(page.locator("#cart-count")).to_have_text("1")
    until_modal(page, "cart-dialog")
    page.keyboard.press("Escape")

    # The session was closed at Stripe at once: the order says so, its units are on sale.
    orders = open_orders(page)
    row = orders.locator(".order")
    expect(row).to_have_attribute("data-status", "cancelled")
    expect(row.locator(".status")).to_have_text("Cancelled")
    expect(row.get_by_role("link", name="Resume payment")).to_have_count(0)
    [(reserved,)] = shop.query(select(Product.reserved).where(Product.sku == "GEAR-GRINDER"))
    assert reserved == 0
    snap(page, "orders-cancelled")
    page.keyboard.press("Escape")

    open_cart(page).get_by_role("button", name="Checkout").click()
    expect(page).to_have_url(re.compile(r"/emulator/checkout/cs_\w+$"))
    assert page.url != session_url
    pay(page)
    expect(page).to_have_url(re.compile(r"/checkout/success\?session_id=cs_\w+$"))
    expect(page.locator("#orders-dialog .order-detail")).to_have_attribute("data-status", "paid")
    statuses = {row.status for row in shop.query(EmulatorSession.__table__.select())}
    assert statuses == {"expired", "complete"}


def test_a_double_click_and_a_second_tab_share_one_checkout_session(signed_in, context, shop):
    page = signed_in
    first = check_out_one(page, shop.products["GEAR-SCALE"].name, double_click=True)

    second_tab = context.new_page()
    second_tab.goto("/cart")
    second_tab.locator("#cart-dialog").get_by_role("button", name="Checkout").click()
    expect(second_tab).to_have_url(first)

    assert len(shop.query(EmulatorSession.__table__.select())) == 1
    orders = shop.query(Order.__table__.select())
    assert [(o.status, o.session_url) for o in orders] == [("pending", first)]


def test_my_orders_polls_while_open_and_stops_when_closed(signed_in, shop):
    page = signed_in
    check_out_one(page, shop.products["MUG-STONE"].name)
    page.go_back()  # left the hosted page unpaid: the order is pending
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith("/orders") else None)
    dialog = open_orders(page)
    expect(dialog.locator('[data-status="pending"]')).to_be_visible()
    page.wait_for_timeout(3500)
    assert len(polls) >= 2, "the open modal does not refresh itself"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    closed_at = len(polls)
    page.wait_for_timeout(3500)
    assert len(polls) == closed_at, "a closed My Orders kept polling"
