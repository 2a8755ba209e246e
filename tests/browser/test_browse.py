"""A visitor browses the catalogue and searches it as they type."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import no_page_load, snap

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


def test_a_visitor_is_asked_to_log_in_to_buy(page, shop):
    page.goto("/")
    page.get_by_role("link", name="Log in to buy").first.click()
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


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
