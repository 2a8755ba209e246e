"""A whole purchase with the keyboard only: no click, no mouse, and the focus always where
a shopper expects it; what changes out of sight is said in a live region."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import card, focused
from conftest import PASSWORD
from shop.money import format_money

pytestmark = pytest.mark.browser

PAYS = "4242 4242 4242 4242"


def tab_to(page, target, most: int, back: bool = False) -> int:
    """Press Tab (Shift+Tab with `back`) until `target` has the focus; the presses it took."""
    for presses in range(1, most + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if target.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"{most} presses did not reach it; the focus is on {focused(page)}")


def live_text(element) -> str:
    """The text of the live region (role status/alert, or aria-live) holding `element`."""
    return element.evaluate(
        """el => {
            const live = el.closest('[aria-live], [role="status"], [role="alert"]');
            if (!live) throw new Error(`${el.id || el.className} is in no live region`);
            return live.textContent.trim();
        }"""
    )


def test_a_purchase_with_the_keyboard_only(page, customer, shop):
    colombia, ethiopia = shop.products["BEAN-COL-250"], shop.products["BEAN-ETH-250"]
    money = lambda cents: format_money(cents, "usd")  # noqa: E731

    # Log in.
    page.goto("/login")
    tab_to(page, page.get_by_label("Email", exact=True), most=10)
    page.keyboard.type(customer)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/$"))

    # Search: the count of results is said in a live region; the focus stays in the box.
    search = page.get_by_role("searchbox", name="Search products")
    tab_to(page, search, most=3)
    page.keyboard.type("250 g", delay=30)
    expect(page.locator("#grid .card")).to_have_count(2)
    expect(page.locator("#search-status")).to_have_text("2 results for “250 g”")
    assert live_text(page.locator("#search-status")) == "2 results for “250 g”"
    expect(search).to_be_focused()

    # Add 2: the focus stays on each Add button; the note (a live region) gives the count.
    badge = page.locator("#cart-count")
    for count, product in enumerate((colombia, ethiopia), start=1):
        add_button = card(page, product.name).get_by_role("button", name=f"Add {product.name}")
        tab_to(page, add_button, most=12)
        page.keyboard.press("Enter")
        expect(badge).to_have_text(str(count))
        expect(add_button).to_be_enabled()
        expect(add_button).to_be_focused()
        items = "1 item" if count == 1 else f"{count} items"
        note = card(page, product.name).locator(".added-note")
        expect(note).to_contain_text(f"Your cart holds {items}")
        assert f"Your cart holds {items}" in live_text(note)

    # Open the cart: its title has the focus.
    cart_link = page.get_by_role("link", name=re.compile(r"^Cart"))
    tab_to(page, cart_link, most=12, back=True)
    page.keyboard.press("Enter")
    dialog = page.locator("#cart-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Your cart")).to_be_focused()

    # Change one: one more Colombia, then Tab to Update (the change is sent as it blurs).
    quantity = dialog.get_by_label(f"Quantity of {colombia.name}")
    tab_to(page, quantity, most=3)
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Tab")
    update = dialog.get_by_role("button", name=f"Update {colombia.name}")
    subtotal = 2 * colombia.price_in("usd") + ethiopia.price_in("usd")
    status = dialog.locator("#cart-status")
    expect(status).to_have_text(
        f"Your cart is updated. Your cart holds 3 items; subtotal {money(subtotal)}."
    )
    expect(dialog.locator("[data-subtotal-cents]")).to_have_text(money(subtotal))
    expect(badge).to_have_text("3")
    assert "subtotal" in live_text(status)
    expect(update).to_be_focused()

    # Remove one: the focus moves to the line that took its place, and Checkout is near.
    tab_to(page, dialog.get_by_role("button", name=f"Remove {colombia.name}"), most=2)
    page.keyboard.press("Enter")
    expect(dialog.locator(".cart-line")).to_have_count(1)
    expect(status).to_have_text(
        f"Removed {colombia.name} from your cart. "
        f"Your cart holds 1 item; subtotal {money(ethiopia.price_in('usd'))}."
    )
    assert live_text(status).startswith(f"Removed {colombia.name}")
    expect(dialog.get_by_label(f"Quantity of {ethiopia.name}")).to_be_focused()
    # Past the line's quantity, Update and Remove, and the promotion code's field and button.
    assert tab_to(page, dialog.get_by_role("button", name="Checkout"), most=5) <= 5

    # Check out and pay on the hosted page.
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/emulator/checkout/cs_\w+$"))
    # Past the shipping address (filled in) and the country, to the card.
    tab_to(page, page.get_by_label("Card number"), most=20)
    page.keyboard.type(PAYS)
    page.keyboard.press("Enter")

    # Back in the shop: My Orders is open on the order, the thank-you has the focus.
    expect(page).to_have_url(re.compile(r"/checkout/success\?session_id=cs_\w+$"))
    orders = page.locator("#orders-dialog")
    expect(orders).to_be_visible()
    page.wait_for_function("() => document.getElementById('orders-dialog').matches(':modal')")
    thanks = orders.get_by_role("status").filter(has_text="Thank you!")
    expect(thanks).to_be_focused()
    expect(orders.locator(".order-detail")).to_have_attribute("data-status", "paid")
    expect(badge).to_have_text("0")

    # Close it: the focus lands on My Orders in the header; open it again and close it.
    page.keyboard.press("Escape")
    expect(orders).to_be_hidden()
    my_orders = page.get_by_role("link", name="My Orders")
    expect(my_orders).to_be_focused()
    page.keyboard.press("Enter")
    expect(orders).to_be_visible()
    expect(orders.get_by_role("heading", name="My Orders")).to_be_focused()
    expect(orders.locator(".order-list .order")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(orders).to_be_hidden()
    expect(my_orders).to_be_focused()
