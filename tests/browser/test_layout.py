"""Small phones (320, 360 and 390 px wide): no control overlaps another, nothing scrolls
sideways, and a tap lands on the control under the finger."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import add, log_in, open_product, snap
from browser.test_phone import assert_no_horizontal_scroll

pytestmark = pytest.mark.browser

WIDTHS = (320, 360, 390)

#: Every control a finger can hit, in the layer on top: the open modal dialog, or the page.
OVERLAPS = """() => {
  const scope = document.querySelector("dialog:modal") || document;
  const controls = [...scope.querySelectorAll(
    'a[href], button, input:not([type="hidden"]), select, textarea, [tabindex="0"]'
  )].filter((el) => {
    if (scope === document && el.closest("dialog")) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
  });
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} ` +
    `"${(el.getAttribute("aria-label") || el.textContent || el.value || "").trim().slice(0, 30)}"`;
  const found = [];
  controls.forEach((a, i) => controls.slice(i + 1).forEach((b) => {
    if (a.contains(b) || b.contains(a)) return;
    const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
    const wide = Math.min(r.right, s.right) - Math.max(r.left, s.left);
    const high = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
    if (wide > 0.5 && high > 0.5) {
      found.push(`${name(a)} overlaps ${name(b)} by ${wide.toFixed(1)}×${high.toFixed(1)} px`);
    }
  }));
  return [controls.length, found];
}"""


def assert_no_overlaps(page, state: str) -> int:
    """No two controls of the top layer overlap, at the top of the page or dialog; returns
    how many controls were measured (so a test cannot pass by finding none)."""
    page.evaluate("() => document.querySelectorAll('dialog').forEach(d => d.scrollTo(0, 0))")
    page.evaluate("() => window.scrollTo(0, 0)")
    count, overlaps = page.evaluate(OVERLAPS)
    assert overlaps == [], f"{state}: {overlaps}"
    assert count > 0, f"{state}: no control measured"
    assert_no_horizontal_scroll(page, state)
    return count


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def small(request, new_context):
    """A phone-sized tab with touch, `request.param` px wide."""
    viewport = {"width": request.param, "height": 700}
    return new_context(viewport=viewport, is_mobile=True, has_touch=True).new_page()


def test_no_control_overlaps_another_on_a_small_phone(small, customer, shop, problems):
    problems.allow_status(402, r"/emulator/checkout/cs_\w+")  # the declined card, on purpose
    page = small
    width = page.viewport_size["width"]
    page.goto("/login")
    assert_no_overlaps(page, "login")
    log_in(page, customer)
    assert_no_overlaps(page, "catalogue")

    grinder, beans, kettle = (
        shop.products[s] for s in ("GEAR-SCALE", "BEAN-ESP-1K", "GEAR-KETTLE")
    )
    add(page, grinder.name, quantity=10)
    expect(page.locator("#cart-count")).to_have_text("10")
    assert_no_overlaps(page, "catalogue with an add note")
    add(page, beans.name, quantity=9)
    add(page, kettle.name)
    expect(page.locator("#cart-count")).to_have_text("20")

    dialog = open_product(page, kettle.name)
    expect(dialog.locator(".add-form")).to_be_visible()
    assert_no_overlaps(page, "product dialog")
    page.keyboard.press("Escape")

    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    cart = page.locator("#cart-dialog")
    expect(cart.locator(".cart-line")).to_have_count(3)
    assert assert_no_overlaps(page, "cart with 3 lines") >= 3 * 3 + 2  # 3 per line, Close, Checkout
    snap(page, f"layout-cart-{width}")

    # The reported tap: the right end of Update is Update, not Remove.
    update = cart.get_by_role("button", name=f"Update {grinder.name}")
    box = update.bounding_box()
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('button').id",
        [box["x"] + box["width"] - 2, box["y"] + box["height"] / 2],
    )
    assert hit == update.get_attribute("id")
    cart.get_by_label(f"Quantity of {grinder.name}").fill("2")
    page.touchscreen.tap(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    expect(cart.locator("#cart-status")).to_contain_text("Your cart is updated.")
    expect(cart.locator(".cart-line")).to_have_count(3)  # nothing was removed
    assert_no_overlaps(page, "cart after an update")

    cart.get_by_role("button", name="Checkout").click()
    expect(page).to_have_url(re.compile(r"/emulator/checkout/cs_\w+$"))
    assert_no_overlaps(page, "hosted pay page")
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_no_overlaps(page, "hosted pay page, declined")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    orders = page.locator("#orders-dialog")
    expect(orders.locator(".order-detail")).to_have_attribute("data-status", "paid")
    page.wait_for_function("() => document.getElementById('orders-dialog').matches(':modal')")
    assert_no_overlaps(page, "the paid order's detail")
    snap(page, f"layout-order-{width}")
