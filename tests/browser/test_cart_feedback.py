"""What the cart says back: a refused quantity is said and the field goes back to what the
cart holds; a capped add leaves no field claiming more; the add note links to the cart and
goes away by itself. At 1280 and 390 px, axe clean in each state."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import PHONE, add, assert_accessible, card, log_in, no_page_load, snap

pytestmark = pytest.mark.browser

VIEWPORTS = [{"width": 1280, "height": 800}, PHONE]
IDS = ["1280px", "390px"]


@pytest.fixture(params=VIEWPORTS, ids=IDS)
def shopper(request, new_context, customer):
    page = new_context(viewport=request.param).new_page()
    page.clock.install()  # time flows as usual; the test may jump it ahead
    log_in(page, customer)
    return page


def test_a_capped_add_resets_the_field_and_the_note_links_to_the_cart_then_goes(shopper, shop):
    page = shopper
    grinder = shop.products["GEAR-GRINDER"]  # 3 on hand in the seed
    field = card(page, grinder.name).get_by_label(f"Quantity of {grinder.name}")
    note = card(page, grinder.name).get_by_role("status")
    with no_page_load(page):
        add(page, grinder.name, quantity=5)
        expect(page.locator("#cart-count")).to_have_text("3")
        expect(note).to_contain_text("only 3 left, so that is all you can have")
        expect(field).to_have_value("1")  # not the 5 the cart did not take
        assert_accessible(page, "capped add")
        snap(page, f"add-capped-{page.viewport_size['width']}")

        note.get_by_role("link", name="View cart").click()
        dialog = page.locator("#cart-dialog")
        page.wait_for_function("() => document.getElementById('cart-dialog').matches(':modal')")
        expect(dialog.get_by_label(f"Quantity of {grinder.name}")).to_have_value("3")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

    # Closing the cart gave the focus back to the link: the note stays while it has it.
    expect(note.get_by_role("link", name="View cart")).to_be_focused()
    page.clock.fast_forward(11_000)
    expect(note).to_contain_text("View cart")
    page.keyboard.press("Tab")
    page.mouse.move(1, 1)
    page.clock.fast_forward(21_000)
    expect(note).to_have_text("")


def test_a_quantity_out_of_range_is_refused_aloud_and_the_field_shows_the_cart(
    shopper, shop, problems
):
    problems.allow_status(422, r"/cart/items/\d+")  # the refused quantity, on purpose
    page = shopper
    beans = shop.products["BEAN-ETH-250"]
    add(page, beans.name, quantity=2)
    expect(page.locator("#cart-count")).to_have_text("2")
    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    dialog = page.locator("#cart-dialog")
    field = dialog.get_by_label(f"Quantity of {beans.name}")
    field.fill("3")
    field.press("Enter")
    expect(dialog.locator("#cart-status")).to_contain_text("Your cart is updated.")
    expect(page.locator("#cart-count")).to_have_text("3")

    field.fill("99")
    field.press("Enter")
    alert = dialog.get_by_role("alert")
    expect(alert).to_have_text(
        "That quantity is out of range. Enter a whole number of items from 0 to 10."
    )
    expect(dialog.locator("#cart-status")).to_have_text("")  # the old "updated" is gone
    expect(field).to_have_value("3")
    expect(page.locator("#cart-count")).to_have_text("3")
    assert_accessible(page, "quantity refused")
    snap(page, f"cart-quantity-refused-{page.viewport_size['width']}")
