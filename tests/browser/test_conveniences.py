"""Favourites and saved cards in a real browser, with JavaScript and without, axe clean."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import (
    assert_accessible,
    card,
    check_out_one,
    log_in,
    log_in_for_checkout,
    no_page_load,
    pay,
)

pytestmark = pytest.mark.browser


def test_a_heart_keeps_a_product_and_the_favourites_modal_moves_it_to_the_cart(signed_in, shop):
    page = signed_in
    kettle = shop.products["GEAR-KETTLE"]
    heart = card(page, kettle.name).get_by_role("button", name=f"Favourite: {kettle.name}")
    expect(heart).to_have_attribute("aria-pressed", "false")
    with no_page_load(page):
        heart.click()
        expect(
            card(page, kettle.name).get_by_role("button", name=f"Favourite: {kettle.name}")
        ).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#toasts")).to_contain_text("added to your favourites")
    page.get_by_role("link", name="Favourites").click()
    dialog = page.locator("#favourites-dialog")
    expect(dialog).to_be_visible()
    row = dialog.locator(".favourite[data-sku='GEAR-KETTLE']")
    expect(row).to_be_visible()
    assert_accessible(page, "favourites modal")
    row.get_by_role("button", name=re.compile("^Move to cart")).click()
    expect(dialog).to_contain_text("is in your cart")
    expect(page.locator("#cart-count")).to_have_text("1")
    expect(row).to_be_visible()  # still a favourite


def test_without_javascript_the_heart_and_the_list_are_plain_forms(new_context, shop, customer):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, customer)
    mug = shop.products["MUG-STONE"]
    card(page, mug.name).get_by_role("button", name=f"Favourite: {mug.name}").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(
        card(page, mug.name).get_by_role("button", name=f"Favourite: {mug.name}")
    ).to_have_attribute("aria-pressed", "true")
    page.get_by_role("link", name="Favourites").click()
    expect(page).to_have_url(re.compile(r"/favourites$"))
    row = page.locator(".favourite[data-sku='MUG-STONE']")
    row.get_by_role("button", name=re.compile("^Move to cart")).click()
    expect(page).to_have_url(re.compile(r"/favourites$"))
    expect(page.locator("#cart-count")).to_have_text("1")


def test_a_saved_card_is_offered_next_time_and_removed_from_the_account(signed_in, shop):
    page = signed_in
    beans = shop.products["BEAN-ETH-250"]
    check_out_one(page, beans.name)
    page.get_by_label("Save this card for next time").check()
    assert_accessible(page, "hosted page with the save box")
    pay(page)
    expect(page).to_have_url(re.compile(r"/checkout/success"))
    page.goto("/")
    check_out_one(page, beans.name)
    saved = page.get_by_label(re.compile(r"^Visa ending 4242"))
    expect(saved).to_be_visible()
    saved.check()
    assert_accessible(page, "hosted page with a saved card")
    page.get_by_role("button", name=re.compile(r"^Pay\b")).click()
    expect(page).to_have_url(re.compile(r"/checkout/success"))
    page.goto("/account/payment-methods")
    rows = page.locator(".saved-card")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Visa ending 4242, expires 12/2034")
    assert_accessible(page, "saved cards page")
    rows.first.get_by_role("button", name=re.compile("^Remove")).click()
    expect(page.locator(".saved-card")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("The card is removed")


def test_without_javascript_a_visitor_fills_a_cart_and_checkout_asks_for_a_login(
    new_context, shop, customer
):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/")
    tote = shop.products["TOTE-CANVAS"]
    card(page, tote.name).get_by_role("button", name="Add").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    cart = page.locator("#cart-dialog")
    expect(cart.locator(".cart-line")).to_have_count(1)
    expect(page.locator("#cart-count")).to_have_text("1")
    cart.get_by_role("button", name="Checkout").click()
    log_in_for_checkout(page, customer)
    expect(page.locator("#cart-dialog .cart-line")).to_have_count(1)
    expect(page.locator("#cart-dialog")).to_contain_text("is in your cart now")
