"""The finish a newcomer notices: the phone header stays small and shows the whole name,
prices and buttons line up across a row of cards, "Only N left" has one colour wherever it
is said, and the admin's selects look like the shop's fields."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from browser.helpers import PHONE, assert_accessible, check_out_one, log_in, pay, snap
from conftest import ADMIN_EMAIL

pytestmark = pytest.mark.browser

#: The header's box and the brand's, after the page has scrolled.
HEADER = """() => {
  const header = document.querySelector(".site-header").getBoundingClientRect();
  const brand = document.querySelector(".brand").getBoundingClientRect();
  return {bottom: header.bottom, brandTop: brand.top, brandRight: brand.right,
          brandText: document.querySelector(".brand").innerText.trim()};
}"""

#: For each row of cards (same top), the distinct tops of their prices and Add buttons.
ROWS = """() => {
  const rows = {};
  document.querySelectorAll("#grid .card").forEach((card) => {
    const top = Math.round(card.getBoundingClientRect().top);
    const price = card.querySelector(".price").getBoundingClientRect().top;
    const button = card.querySelector(".add-form button, .card-body > .button")
      .getBoundingClientRect().top;
    (rows[top] ||= {prices: new Set(), buttons: new Set(), cards: 0});
    rows[top].prices.add(Math.round(price)); rows[top].buttons.add(Math.round(button));
    rows[top].cards += 1;
  });
  return Object.values(rows).map((r) => [r.cards, [...r.prices], [...r.buttons]]);
}"""


@pytest.mark.parametrize("who", ["customer", "admin"])
def test_on_a_phone_the_sticky_header_is_small_and_shows_the_whole_name(
    new_context, shop, customer, who
):
    email = customer
    if who == "admin":
        email = ADMIN_EMAIL
        shop.create_admin(email)
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(page, email)
    expect(page.get_by_role("searchbox", name="Search products")).to_be_visible()
    page.mouse.wheel(0, 1200)
    page.wait_for_function("() => window.scrollY > 600")
    page.wait_for_timeout(100)
    header = page.evaluate(HEADER)
    assert header["brandText"] == "Northside Roastery"
    assert header["brandTop"] >= 0 and header["brandRight"] <= PHONE["width"]
    assert header["bottom"] <= 100, f"the header covers {header['bottom']:.0f}px of the screen"
    snap(page, f"phone-header-scrolled-{who}")
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.get_by_role("searchbox", name="Search products")).to_be_in_viewport()


@pytest.mark.parametrize("width", [1280, 800])
def test_prices_and_buttons_line_up_across_a_row_of_cards(new_context, shop, customer, width):
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    log_in(page, customer)
    rows = page.evaluate(ROWS)
    assert any(cards > 1 for cards, _, _ in rows), f"no row of several cards at {width}px"
    crooked = [row for row in rows if len(row[1]) > 1 or len(row[2]) > 1]
    assert crooked == [], f"rows whose prices or buttons do not line up: {crooked}"


def test_only_n_left_has_one_colour_in_the_grid_and_on_the_product_page(signed_in, shop):
    page = signed_in
    grinder = shop.products["GEAR-GRINDER"]  # 3 on hand: low
    in_grid = page.locator(f'#grid .card[data-sku="{grinder.sku}"] .stock-low')
    expect(in_grid).to_have_text("Only 3 left")
    grid_colour = in_grid.evaluate("el => getComputedStyle(el).color")
    page.goto(f"/products/{grinder.sku}")
    on_page = page.locator(".stock-low")
    expect(on_page).to_have_text("Only 3 left")
    assert on_page.evaluate("el => getComputedStyle(el).color") == grid_colour


def test_the_admin_selects_look_like_the_other_fields(new_context, shop):
    shop.create_admin(ADMIN_EMAIL)
    page = new_context().new_page()
    log_in(page, ADMIN_EMAIL)
    page.goto("/admin/orders")
    styles = page.evaluate(
        """() => [...document.querySelectorAll(
              "main select, main input[type=search], main input[type=text]")]
            .map((el) => [el.tagName, getComputedStyle(el).borderRadius,
                          getComputedStyle(el).borderTopColor])"""
    )
    selects = [s for s in styles if s[0] == "SELECT"]
    fields = [s for s in styles if s[0] == "INPUT"]
    assert selects and fields, styles
    assert {tuple(s[1:]) for s in selects} == {tuple(fields[0][1:])}, styles
    assert_accessible(page, "admin orders filters")


def test_my_orders_shows_times_in_the_customers_own_zone(new_context, shop, customer):
    page = new_context(timezone_id="Europe/Berlin").new_page()
    log_in(page, customer)
    check_out_one(page, shop.products["MUG-STONE"].name)
    pay(page)
    placed = page.locator("#orders-dialog .order time").first
    expect(placed).to_have_attribute("data-shown", "")
    moment = datetime.fromisoformat(placed.get_attribute("datetime"))
    berlin = moment.astimezone(ZoneInfo("Europe/Berlin"))
    expect(placed).to_have_text(berlin.strftime("%d %b %Y, %H:%M ") + berlin.strftime("%Z"))
    portland = moment.astimezone(ZoneInfo("America/Los_Angeles"))
    expect(placed).to_have_attribute("title", portland.strftime("%d %b %Y, %H:%M %Z"))
    assert_accessible(page, "my orders with local times")
