"""On a phone (390×844) every state of the page fits the screen's width."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import PHONE, add, log_in, snap

pytestmark = pytest.mark.browser


def assert_no_horizontal_scroll(page, state: str) -> None:
    """The document is no wider than the viewport, and say which state broke it."""
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{state}: page is {widths[0]}px wide on a {widths[1]}px screen"


def assert_lines_fit(dialog) -> None:
    """Nothing inside a cart line or order row sticks out of it."""
    overflowing = dialog.evaluate(
        """d => Array.from(d.querySelectorAll(".cart-line, .order")).flatMap(row => {
            const box = row.getBoundingClientRect();
            return Array.from(row.querySelectorAll("*"))
                .filter(el => el.getBoundingClientRect().right > box.right + 0.5)
                .map(el => el.outerHTML.slice(0, 80));
        })"""
    )
    assert overflowing == [], f"sticking out of their row: {overflowing}"


@pytest.fixture
def phone(new_context):
    """A phone-sized tab with touch."""
    return new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()


def test_every_state_fits_a_phone_screen(phone, customer, shop):
    page = phone
    page.goto("/")
    expect(page.locator("#grid .card")).to_have_count(len(shop.products))
    assert_no_horizontal_scroll(page, "catalogue")
    snap(page, "phone-catalogue")

    page.goto("/login")
    assert_no_horizontal_scroll(page, "login")
    log_in(page, customer)
    grinder = shop.products["GEAR-GRINDER"]
    beans = shop.products["BEAN-ESP-1K"]
    add(page, grinder.name)
    expect(page.locator("#cart-count")).to_have_text("1")
    add(page, beans.name, quantity=10)
    expect(page.locator("#cart-count")).to_have_text("11")
    assert_no_horizontal_scroll(page, "catalogue, signed in")

    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    dialog = page.locator("#cart-dialog")
    expect(dialog.locator(".cart-line")).to_have_count(2)
    assert_no_horizontal_scroll(page, "cart open")
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "the cart overflows"
    assert_lines_fit(dialog)
    snap(page, "phone-cart")

    dialog.get_by_role("button", name="Checkout").click()
    expect(page).to_have_url(re.compile(r"/emulator/checkout/cs_\w+$"))
    assert_no_horizontal_scroll(page, "hosted checkout")
    snap(page, "phone-emulator-checkout")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    orders = page.locator("#orders-dialog")
    expect(orders.locator(".order")).to_have_attribute("data-status", "paid")
    assert_no_horizontal_scroll(page, "My Orders open")
    assert_lines_fit(orders)
    snap(page, "phone-orders")
