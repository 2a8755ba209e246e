"""Products open in a dialog from the grid; Back closes whichever dialog is open instead of
leaving the page; notes about the cart do not outlive what they describe."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import add, card, no_page_load, open_product, snap
from shop.money import format_money

pytestmark = pytest.mark.browser


def test_a_product_opens_in_a_dialog_with_its_own_url_and_back_closes_it(signed_in, shop):
    page = signed_in
    kettle = shop.products["GEAR-KETTLE"]
    link = card(page, kettle.name).get_by_role("link", name=kettle.name)
    with no_page_load(page):
        dialog = open_product(page, kettle.name)
        expect(page).to_have_url(re.compile(r"/products/GEAR-KETTLE$"))
        expect(dialog.get_by_role("heading", level=2, name=kettle.name)).to_be_focused()
        expect(dialog).to_contain_text(kettle.description)
        expect(dialog.locator(".product-price")).to_have_text(
            format_money(kettle.price_in("usd"), "usd")
        )
        expect(dialog.locator(".availability")).to_have_text("In stock")
        snap(page, "product-dialog")

        # The same add form as the card's: the note is the dialog's own, the focus stays.
        dialog.get_by_label(f"Quantity of {kettle.name}").fill("2")
        add_button = dialog.get_by_role("button", name=f"Add {kettle.name} to cart")
        add_button.click()
        expect(page.locator("#cart-count")).to_have_text("2")
        expect(dialog.get_by_role("status")).to_contain_text(f"You have 2 × {kettle.name}")
        expect(add_button).to_be_focused()

        page.go_back()
        expect(dialog).to_be_hidden()
        expect(page).to_have_url(re.compile(r"/$"))
        expect(link).to_be_focused()  # where the shopper opened it
        expect(page.locator("#grid .card")).to_have_count(len(shop.products))

    # Escape takes the dialog's history entry back off: Back then leaves nothing behind.
    with no_page_load(page):
        open_product(page, shop.products["MUG-STONE"].name)
        expect(page).to_have_url(re.compile(r"/products/MUG-STONE$"))
        page.keyboard.press("Escape")
        expect(page.locator("#product-dialog")).to_be_hidden()
        expect(page).to_have_url(re.compile(r"/$"))


def test_back_with_the_cart_or_my_orders_open_closes_it_and_stays_on_the_page(signed_in, shop):
    page = signed_in
    page.get_by_role("searchbox", name="Search products").fill("kettle")
    expect(page).to_have_url(re.compile(r"/\?q=kettle$"))
    expect(page.locator("#grid .card")).to_have_count(1)
    with no_page_load(page):
        for name, dialog_id in (
            (re.compile(r"^Cart"), "cart-dialog"),
            ("My Orders", "orders-dialog"),
        ):
            page.get_by_role("link", name=name).click()
            dialog = page.locator(f"#{dialog_id}")
            expect(dialog).to_be_visible()
            page.go_back()
            expect(dialog).to_be_hidden()
            expect(page).to_have_url(re.compile(r"/\?q=kettle$"))  # the page it was open over
            expect(page.locator("#grid .card")).to_have_count(1)
    page.go_back()  # and Back goes on as before: the search before it
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#grid .card")).to_have_count(len(shop.products))


def test_an_added_note_clears_when_the_cart_changes_and_after_a_while(signed_in, shop):
    page = signed_in
    mug, scale = shop.products["MUG-STONE"], shop.products["GEAR-SCALE"]
    add(page, mug.name)
    note = card(page, mug.name).locator(".added-note")
    expect(note).to_contain_text(f"You have 1 × {mug.name}")

    # Removed in the cart: the card's note no longer describes the cart.
    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    page.locator("#cart-dialog").get_by_role("button", name=f"Remove {mug.name}").click()
    expect(page.locator("#cart-count")).to_have_text("0")
    page.keyboard.press("Escape")
    expect(note).to_have_text("")

    # Left alone, a note goes after ten seconds (the clock is the page's).
    page.clock.install()
    add(page, scale.name)
    scale_note = card(page, scale.name).locator(".added-note")
    expect(scale_note).to_contain_text(f"You have 1 × {scale.name}")
    page.mouse.move(1, 1)  # not resting on the note, which would keep it
    page.clock.run_for(9_000)
    expect(scale_note).not_to_have_text("")
    page.clock.run_for(2_000)
    expect(scale_note).to_have_text("")
