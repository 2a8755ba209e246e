"""A customer fills the cart from the grid and edits it in the cart dialog."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import add, card, no_page_load, snap
from shop.money import format_money

pytestmark = pytest.mark.browser


def test_adding_from_the_grid_updates_the_badge_without_a_page_load(signed_in, shop):
    page = signed_in
    badge = page.locator("#cart-count")
    expect(badge).to_have_text("0")
    kettle = shop.products["GEAR-KETTLE"]
    mug = shop.products["MUG-STONE"]

    with no_page_load(page):
        add(page, kettle.name)
        expect(badge).to_have_text("1")
        # The note is the card's live region: it also says what the badge now counts.
        expect(card(page, kettle.name).get_by_role("status")).to_have_text(
            f"Added. You have 1 × {kettle.name} in your cart. "
            f"Your cart holds 1 item; subtotal {format_money(kettle.price_in('usd'), 'usd')}. "
            "View cart"
        )
        add(page, mug.name, quantity=3)
        expect(badge).to_have_text("4")
        add(page, kettle.name)
        expect(badge).to_have_text("5")
        expect(card(page, kettle.name).get_by_role("status")).to_have_text(
            re.compile(
                rf"^Added\. You have 2 × {re.escape(kettle.name)} in your cart\. "
                r"Your cart holds 5 items;"
            )
        )
        # The mug's note spoke of an earlier moment: the kettle's add cleared it.
        expect(card(page, mug.name).get_by_role("status")).to_have_text("")
    snap(page, "added-from-grid")

    expect(page.get_by_role("link", name="Cart 5 items")).to_be_visible()  # what is read out
    page.reload()  # the server agrees with what the page showed
    expect(badge).to_have_text("5")


def test_cart_dialog_changes_a_quantity_removes_a_line_and_closes_with_escape(signed_in, shop):
    page = signed_in
    beans = shop.products["BEAN-ETH-250"]
    scale = shop.products["GEAR-SCALE"]
    filters = shop.products["GEAR-FILTER-100"]
    add(page, beans.name)
    expect(page.locator("#cart-count")).to_have_text("1")
    add(page, scale.name)
    expect(page.locator("#cart-count")).to_have_text("2")
    add(page, filters.name, quantity=2)
    expect(page.locator("#cart-count")).to_have_text("4")

    dialog = page.locator("#cart-dialog")
    lines = dialog.locator(".cart-line")
    subtotal = dialog.locator("[data-subtotal-cents]")
    with no_page_load(page):
        page.get_by_role("link", name=re.compile(r"^Cart")).click()
        expect(dialog).to_be_visible()
        assert dialog.evaluate("d => d.matches(':modal')"), "the cart is not a modal dialog"
        expect(lines).to_have_count(3)
        expect(subtotal).to_have_text(
            format_money(
                beans.price_in("usd") + scale.price_in("usd") + 2 * filters.price_in("usd"), "usd"
            )
        )
        snap(page, "cart-open")

        beans_line = lines.filter(has_text=beans.name)
        beans_line.get_by_label(f"Quantity of {beans.name}").fill("3")
        beans_line.get_by_label(f"Quantity of {beans.name}").dispatch_event("change")
        expected = 3 * beans.price_in("usd") + scale.price_in("usd") + 2 * filters.price_in("usd")
        expect(subtotal).to_have_text(format_money(expected, "usd"))
        expect(lines.filter(has_text=beans.name).locator(".line-total")).to_have_text(
            format_money(3 * beans.price_in("usd"), "usd")
        )
        expect(page.locator("#cart-count")).to_have_text("6")

        lines.filter(has_text=scale.name).get_by_role("button", name=f"Remove {scale.name}").click()
        expect(lines).to_have_count(2)
        expect(subtotal).to_have_text(format_money(expected - scale.price_in("usd"), "usd"))
        expect(page.locator("#cart-count")).to_have_text("5")
        expect(dialog).to_be_visible()
        snap(page, "cart-edited")

        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()


def test_an_empty_cart_offers_to_continue_shopping_instead_of_a_disabled_checkout(signed_in, shop):
    page = signed_in
    mug = shop.products["MUG-STONE"]
    add(page, mug.name)
    expect(page.locator("#cart-count")).to_have_text("1")
    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    dialog = page.locator("#cart-dialog")
    dialog.get_by_role("button", name=f"Remove {mug.name}").click()
    expect(dialog.locator(".cart-empty")).to_contain_text("Your cart is empty")
    # Issue #18: no disabled Checkout; the way on is back to the products, with the focus on it.
    expect(dialog.get_by_role("button", name="Checkout")).to_have_count(0)
    continue_shopping = dialog.get_by_role("button", name="Continue shopping")
    expect(continue_shopping).to_be_focused()
    expect(page.locator("#cart-count")).to_have_text("0")
    continue_shopping.click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_focused()
