"""A customer ships an order to France by express on Stripe's page (the emulator's), at
desktop and phone widths; the admin's order page shows where it goes. Axe-clean throughout."""

import pytest
from playwright.sync_api import expect

from browser.helpers import (
    DESKTOP,
    PHONE,
    assert_accessible,
    check_out_one,
    log_in,
    snap,
    until_modal,
)
from conftest import ADMIN_EMAIL
from shop import settings, shipping

pytestmark = pytest.mark.browser


@pytest.fixture
def rates(shop):
    """The shop's default rates for this test (the others charge no shipping)."""
    config = shop.app.config
    kept = config["SHIPPING_RATES"]
    config["SHIPPING_RATES"] = shipping.rates(settings.default("SHIPPING_RATES"))
    yield
    config["SHIPPING_RATES"] = kept


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_an_order_ships_where_the_customer_said_at_the_rate_they_chose(
    new_context, shop, customer, rates, viewport
):
    mug = shop.products["MUG-STONE"]  # $18.00: under the free-shipping threshold
    page = new_context(viewport=viewport).new_page()
    log_in(page, customer)
    check_out_one(page, mug.name)
    expect(page.locator(".checkout-shipping td")).to_have_text("$4.90")  # standard, preselected
    assert_accessible(page, "the hosted page with its shipping fields")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    snap(page, f"emulator-shipping-{viewport['width']}", full_page=True)

    page.get_by_label("Full name").fill("Marie Curie")
    page.get_by_label("Address", exact=True).fill("11 rue Pierre et Marie Curie")
    page.get_by_label("City").fill("Paris")
    page.get_by_label("Postal code").fill("75005")
    page.get_by_label("Country").select_option("FR")
    page.get_by_label("Express (1–2 business days)").check()
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_role("button", name="Pay").click()

    row = page.locator("#orders-dialog .order")
    expect(row).to_have_attribute("data-status", "paid")
    expect(row.locator(".order-total")).to_have_text("$30.00")  # $18.00 + $12.00 express
    until_modal(page, "orders-dialog")
    order_id = row.get_attribute("data-order-id")

    shop.create_admin(ADMIN_EMAIL)
    admin = new_context(viewport=viewport).new_page()
    log_in(admin, ADMIN_EMAIL)
    admin.goto(f"/admin/orders/{order_id}")
    panel = admin.locator("#admin-order")
    expect(panel).to_have_attribute("data-ship-country", "FR")
    expect(panel).to_have_attribute("data-shipping-cents", "1200")
    expect(panel.locator(".ship-address")).to_contain_text("75005 Paris")
    expect(panel.locator(".ship-address")).to_contain_text("France")
    expect(panel.locator(".ship-rate")).to_have_text("Express (1–2 business days)")
    assert_accessible(admin, "the admin's order page with its address")
    snap(admin, f"admin-order-address-{viewport['width']}", full_page=True)


def test_a_country_the_shop_does_not_ship_to_is_refused_on_the_page(
    new_context, shop, customer, rates, problems
):
    problems.allow_status(422, r"/emulator/checkout/cs_\w+")  # the refused country, on purpose
    page = new_context().new_page()
    log_in(page, customer)
    check_out_one(page, shop.products["MUG-STONE"].name)
    # A browser offers only the listed countries; a forged post is refused all the same.
    page.evaluate(
        "document.getElementById('shipping_country').add(new Option('Japan', 'JP', true, true))"
    )
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("alert")).to_contain_text("This shop does not ship to JP")
    assert_accessible(page, "the hosted page refusing a country")
