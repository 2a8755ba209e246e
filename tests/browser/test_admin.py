"""An admin finds a customer's paid order by email and ships it; the customer, in a browser
of their own, opens My Orders and sees it shipped with the tracking number. With and
without JavaScript."""

import os
import re
import shutil

import pytest
from playwright.sync_api import expect

from browser.helpers import (
    ROOT,
    assert_headers_align,
    axe_violations,
    check_out_one,
    log_in,
    no_page_load,
    open_orders,
    pay,
    snap,
    until_modal,
)
from conftest import ADMIN_EMAIL

pytestmark = pytest.mark.browser

TRACKING = "1Z999AA10123456784"


def paid_order(page, shop) -> str:
    """The customer buys a mug and pays on the emulator's page; the order number shown."""
    check_out_one(page, shop.products["MUG-STONE"].name)
    pay(page)
    row = page.locator("#orders-dialog .order")
    expect(row).to_have_attribute("data-status", "paid")
    expect(row).to_have_attribute("data-fulfilment", "unfulfilled")
    until_modal(page, "orders-dialog")
    page.keyboard.press("Escape")
    expect(page.locator("#orders-dialog")).to_be_hidden()
    return row.get_attribute("data-order-id")


def open_admin_orders(page) -> None:
    """From the header's Admin link, through the dashboard, to the orders list."""
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.locator(".admin-nav").get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Orders", exact=True)).to_be_visible()


def paid_and_admin_at_the_list(new_context, shop, customer: str, **admin_browser):
    """The customer's paid order, and an admin (in a browser of their own, with
    `admin_browser` options) on the orders list: (customer's page, order number, admin's page)."""
    shop.create_admin(ADMIN_EMAIL)
    shopper = new_context().new_page()
    log_in(shopper, customer)
    order_id = paid_order(shopper, shop)
    admin = new_context(**admin_browser).new_page()
    log_in(admin, ADMIN_EMAIL)
    open_admin_orders(admin)
    return shopper, order_id, admin


def test_an_admin_ships_a_paid_order_and_the_customer_sees_it_in_my_orders(
    new_context, shop, customer
):
    shopper, order_id, admin = paid_and_admin_at_the_list(new_context, shop, customer)
    row = admin.locator("#admin-results tbody tr")
    with no_page_load(admin):  # the list follows the search as it is typed
        admin.get_by_label("Order number or customer email").fill(customer)
        expect(row).to_have_count(1)
        expect(admin).to_have_url(re.compile(r"/admin/orders\?q=ada(@|%40)example\.com$"))
    expect(row).to_have_attribute("data-order-id", order_id)
    expect(row).to_have_attribute("data-status", "paid")
    assert_headers_align(admin)
    snap(admin, "admin-orders-found")
    row.get_by_role("link", name=f"#{order_id}").click()

    panel = admin.locator("#admin-order")
    expect(panel).to_have_attribute("data-fulfilment", "unfulfilled")
    with no_page_load(admin):
        admin.get_by_label("Carrier").fill("UPS")
        admin.get_by_label("Tracking number").fill(TRACKING)
        admin.get_by_role("button", name="Mark shipped").click()
        expect(panel).to_have_attribute("data-fulfilment", "shipped")
    expect(panel.get_by_role("status")).to_have_text(f"Order #{order_id} is marked shipped.")
    expect(panel.locator("#shipment .tracking-number")).to_have_text(TRACKING)
    expect(panel.locator('#timeline li[data-kind="shipped"]')).to_contain_text(ADMIN_EMAIL)
    assert_headers_align(admin)
    admin.evaluate("window.scrollTo(0, 0)")
    path = snap(admin, "admin-order-shipped", full_page=True)
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(path, ROOT / "docs" / "admin-order.png")

    # The customer never reloaded: opening My Orders asks the shop afresh.
    orders = open_orders(shopper)
    row = orders.locator(f'.order[data-order-id="{order_id}"]')
    expect(row).to_have_attribute("data-fulfilment", "shipped")
    expect(row.locator(".order-shipment")).to_contain_text("Shipped")
    expect(row.locator(".tracking-number")).to_have_text(TRACKING)
    snap(shopper, "orders-shipped")


def test_without_javascript_the_admin_finds_and_ships_an_order_with_plain_forms(
    new_context, shop, customer
):
    _, order_id, admin = paid_and_admin_at_the_list(
        new_context, shop, customer, java_script_enabled=False
    )
    admin.get_by_label("Order number or customer email").fill(customer)
    admin.get_by_role("button", name="Filter").click()
    expect(admin).to_have_url(re.compile(r"/admin/orders\?q=ada%40example\.com"))
    admin.locator("#admin-results").get_by_role("link", name=f"#{order_id}").click()
    admin.get_by_label("Tracking number").fill(TRACKING)
    admin.get_by_role("button", name="Mark shipped").click()
    expect(admin).to_have_url(re.compile(rf"/admin/orders/{order_id}$"))
    expect(admin.locator(".flashes")).to_have_text(f"Order #{order_id} is marked shipped.")
    expect(admin.locator("#admin-order")).to_have_attribute("data-fulfilment", "shipped")
    expect(admin.locator("#shipment .tracking-number")).to_have_text(TRACKING)


def test_refunding_everything_left_is_chosen_and_confirmed_with_its_amount(
    new_context, shop, customer, problems
):
    problems.allow_status(422, r"/admin/orders/\d+/refunds")  # the empty form, on purpose
    _, order_id, admin = paid_and_admin_at_the_list(new_context, shop, customer)
    admin.goto(f"/admin/orders/{order_id}")
    panel = admin.locator("#admin-order")
    with no_page_load(admin):
        admin.get_by_role("button", name="Refund", exact=True).click()  # nothing chosen
        expect(panel.get_by_role("alert")).to_contain_text("Type the amount to refund")
        expect(panel).to_have_attribute("data-refunded-cents", "0")
        admin.get_by_label(re.compile(r"^Refund everything left")).check()
        admin.get_by_role("button", name="Refund", exact=True).click()
        confirm = admin.locator("#refund-confirm")
        expect(confirm.get_by_role("heading")).to_have_text("Refund $18.00?")
        expect(confirm.get_by_role("button", name="Keep the money")).to_be_focused()
        assert axe_violations(admin, "the refund's confirmation") == []
        confirm.get_by_role("button", name="Refund $18.00").click()
        expect(panel).to_have_attribute("data-status", "refunded")
    expect(panel).to_have_attribute("data-refunded-cents", "1800")


def test_an_admin_refunds_part_of_an_order_and_the_customer_sees_it(new_context, shop, customer):
    shopper, order_id, admin = paid_and_admin_at_the_list(new_context, shop, customer)
    admin.goto(f"/admin/orders/{order_id}")
    panel = admin.locator("#admin-order")
    with no_page_load(admin):
        admin.get_by_label(re.compile(r"^Amount")).fill("5.00")
        admin.get_by_label("Reason").select_option("requested_by_customer")
        admin.get_by_role("button", name="Refund", exact=True).click()
        confirm = admin.locator("#refund-confirm")
        expect(confirm).to_be_visible()  # nothing is sent before the admin confirms
        expect(confirm.get_by_role("heading")).to_have_text("Refund $5.00?")
        assert admin.evaluate("document.getElementById('refund-confirm').matches(':modal')")
        confirm.get_by_role("button", name="Keep the money").click()
        expect(confirm).to_be_hidden()
        expect(panel).to_have_attribute("data-refunded-cents", "0")
        admin.get_by_role("button", name="Refund", exact=True).click()
        confirm.get_by_role("button", name="Refund $5.00").click()
        expect(panel).to_have_attribute("data-status", "partially_refunded")
    expect(panel).to_have_attribute("data-refunded-cents", "500")
    expect(panel.get_by_role("status")).to_have_text(f"Refunded $5.00 of order #{order_id}.")
    expect(panel.locator('#refunds li[data-status="succeeded"]')).to_contain_text(ADMIN_EMAIL)

    open_orders(shopper)  # the customer never reloaded; opening My Orders fetches it afresh
    row = shopper.locator(f'#orders-dialog .order[data-order-id="{order_id}"]')
    expect(row).to_have_attribute("data-status", "partially_refunded")
    expect(row.locator(".status")).to_have_text("Partly refunded")
    expect(row.locator(".order-refunded")).to_have_text("Refunded $5.00")
