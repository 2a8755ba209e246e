"""A visitor browses the catalogue and searches it as they type."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import (
    add,
    assert_accessible,
    log_in_for_checkout,
    no_page_load,
    open_cart,
    snap,
)

pytestmark = pytest.mark.browser


def test_search_narrows_the_grid_as_the_visitor_types_and_back_restores_it(page, shop):
    page.goto("/")
    cards = page.locator("#grid .card")
    expect(cards).to_have_count(len(shop.products))
    expect(page.locator("#cart-count")).to_have_text("0")
    snap(page, "catalogue")

    search = page.get_by_role("searchbox", name="Search products")
    with no_page_load(page):
        search.press_sequentially("kettle", delay=40)
        expect(cards).to_have_count(1)
        expect(cards.first).to_contain_text("Gooseneck Kettle")
        expect(page).to_have_url(re.compile(r"/\?q=kettle$"))
        expect(page.locator(".results-note")).to_have_text("1 result for “kettle”")

        search.fill("250 g")
        expect(cards).to_have_count(2)
        expect(page).to_have_url(re.compile(r"/\?q=250(\+|%20)g$"))
    snap(page, "search-results")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?q=kettle$"))
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Gooseneck Kettle")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(cards).to_have_count(len(shop.products))


def test_a_search_without_matches_says_so_and_offers_everything(page, shop):
    page.goto("/")
    page.get_by_role("searchbox", name="Search products").fill("decaf unicorn")
    expect(page.locator("#grid .card")).to_have_count(0)
    expect(page.locator("#grid .empty")).to_contain_text("No products match “decaf unicorn”")
    page.get_by_role("link", name="Show everything").click()
    expect(page.locator("#grid .card")).to_have_count(len(shop.products))


def test_a_visitor_fills_a_cart_logs_in_at_checkout_and_finds_it_in_their_cart(
    page, shop, customer
):
    beans = shop.products["BEAN-ETH-250"]
    page.goto("/")
    add(page, beans.name, quantity=2)
    expect(page.locator("#cart-count")).to_have_text("2")
    cart = open_cart(page)
    expect(cart.locator(".cart-line")).to_have_count(1)
    expect(cart.locator("#cart-login-note")).to_be_visible()
    assert_accessible(page, "a visitor's cart")
    cart.get_by_role("button", name="Checkout").click()
    log_in_for_checkout(page, customer)
    dialog = page.locator("#cart-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("The cart you filled before logging in is in your cart now.")
    expect(dialog.get_by_label(f"Quantity of {beans.name}")).to_have_value("2")
    expect(page.locator("#cart-count")).to_have_text("2")
    assert_accessible(page, "the merged cart")


@pytest.mark.parametrize("start", ["/products/GEAR-KETTLE", "/login", "/no-such-page"])
def test_the_header_search_works_off_the_home_page(page, shop, problems, start):
    """Where there is no grid, typing does nothing (no htmx:targetError in the console) and
    Enter goes to the catalogue's results."""
    problems.allow_status(404, "/no-such-page")
    page.goto(start)
    search = page.get_by_role("searchbox", name="Search products")
    search.fill("kettle")
    page.wait_for_timeout(500)  # past the as-you-type delay: nothing is sent from here
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/\?q=kettle$"))
    expect(page.locator("#grid .card")).to_have_count(1)
    expect(page.locator("#grid .card")).to_contain_text(shop.products["GEAR-KETTLE"].name)
