"""axe-core finds nothing on any main state of the shop, on a desktop and on a 390 px phone.

axe runs inside the page (tests/browser/vendor/axe.min.js, loaded as an init script, so
the CSP stays the shop's own). Each test walks a visitor's or a customer's states and fails
with every violation of every state it saw.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from browser.helpers import DESKTOP, PHONE, add, axe_violations, log_in, open_product
from checkout_helpers import make_orders
from conftest import ADMIN_EMAIL
from shop.auth.models import User
from shop.extensions import db
from shop.models import utcnow

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
DECLINED = "4000 0000 0000 0002"


@pytest.fixture(params=WIDTHS.values(), ids=WIDTHS.keys())
def tab(request, new_context):
    """A tab at each width (the phone one with touch)."""
    phone = request.param == PHONE
    return new_context(viewport=request.param, is_mobile=phone, has_touch=phone).new_page()


class Audit:
    """The violations of every state checked, to fail once with all of them."""

    def __init__(self, page):
        self.page = page
        self.states: list[str] = []
        self.violations: list[str] = []

    def check(self, state: str) -> None:
        """Run axe on the page as it is now."""
        self.states.append(state)
        self.violations += axe_violations(self.page, state)

    def assert_clean(self, expected_states: int) -> None:
        """Every state was checked, and none had a violation."""
        assert len(self.states) == expected_states, self.states
        assert self.violations == [], "\n".join(self.violations)


def open_dialog(page, link_name, dialog_id: str):
    """Open a dialog from its header link and wait until it is shown as a modal."""
    page.get_by_role("link", name=link_name).click()
    dialog = page.locator(f"#{dialog_id}")
    expect(dialog).to_be_visible()
    page.wait_for_function(f"() => document.getElementById('{dialog_id}').matches(':modal')")
    return dialog


def test_a_visitors_states(tab, shop, customer, problems):
    problems.allow_status(422, "/(login|register)")  # the refused forms, on purpose
    problems.allow_status(404, "/no-such-page")
    page, audit = tab, Audit(tab)

    page.goto("/")
    expect(page.locator("#grid .card")).to_have_count(len(shop.products))
    audit.check("catalogue, logged out")

    dialog = open_product(page, shop.products["GEAR-GRINDER"].name)
    expect(dialog.get_by_role("heading", level=2)).to_be_focused()
    audit.check("product dialog, logged out")
    page.keyboard.press("Escape")
    # Closing steps back from the dialog's history entry: let that land before navigating,
    # or the navigation races it (net::ERR_ABORTED).
    expect(dialog).to_be_hidden()
    expect(page).not_to_have_url(re.compile(r"/products/"))

    page.goto("/products/GEAR-GRINDER")
    expect(page.get_by_role("heading", level=1)).to_have_text(shop.products["GEAR-GRINDER"].name)
    audit.check("product page, logged out")

    page.goto("/login")
    audit.check("login")
    page.get_by_label("Email", exact=True).fill(customer)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_focused()
    audit.check("login refused")

    page.goto("/register")
    audit.check("register")
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Confirm password").fill("other")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    audit.check("register with errors")

    page.goto("/no-such-page")
    expect(page.get_by_role("heading", level=1)).to_have_text("404")
    audit.check("404 page")

    audit.assert_clean(8)


def test_a_customers_states(tab, shop, customer, problems):
    problems.allow_status(402, r"/emulator/checkout/cs_\w+")  # the declined card, on purpose
    page, audit = tab, Audit(tab)
    log_in(page, customer)
    audit.check("catalogue, logged in")

    orders = open_dialog(page, "My Orders", "orders-dialog")
    expect(orders.locator(".empty")).to_contain_text("No orders yet")
    audit.check("My Orders, empty")
    page.keyboard.press("Escape")

    cart = open_dialog(page, re.compile(r"^Cart"), "cart-dialog")
    expect(cart.locator(".cart-empty")).to_be_visible()
    audit.check("cart, 0 lines")
    page.keyboard.press("Escape")

    add(page, shop.products["BEAN-ETH-250"].name)
    expect(page.locator("#cart-count")).to_have_text("1")
    audit.check("catalogue, an add confirmed")
    cart = open_dialog(page, re.compile(r"^Cart"), "cart-dialog")
    expect(cart.locator(".cart-line")).to_have_count(1)
    audit.check("cart, 1 line")
    page.keyboard.press("Escape")

    for sku in ("GEAR-V60-02", "GEAR-FILTER-100"):
        add(page, shop.products[sku].name)
    expect(page.locator("#cart-count")).to_have_text("3")
    cart = open_dialog(page, re.compile(r"^Cart"), "cart-dialog")
    expect(cart.locator(".cart-line")).to_have_count(3)
    audit.check("cart, 3 lines")
    cart.get_by_role("button", name=f"Remove {shop.products['GEAR-V60-02'].name}").click()
    expect(cart.locator("#cart-status")).to_contain_text("Removed")
    audit.check("cart, after a removal")

    cart.get_by_role("button", name="Checkout").click()
    expect(page).to_have_url(re.compile(r"/emulator/checkout/cs_\w+$"))
    audit.check("hosted pay page")
    page.get_by_label("Card number").fill(DECLINED)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_role("alert")).to_be_focused()
    audit.check("hosted pay page, card declined")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    orders = page.locator("#orders-dialog")
    expect(orders.locator(".order-detail")).to_have_attribute("data-status", "paid")
    audit.check("success: the paid order's detail")
    orders.get_by_role("link", name="All orders").click()
    expect(orders.locator(".order-list .order")).to_have_count(1)
    audit.check("My Orders, with an order")

    page.keyboard.press("Escape")
    expect(open_product(page, shop.products["MUG-STONE"].name).locator(".add-form")).to_be_visible()
    audit.check("product dialog, logged in")
    page.goto("/products/MUG-STONE")
    audit.check("product page, logged in")

    audit.assert_clean(13)


def test_the_audit_does_see_a_violation(page, shop):
    """The check above cannot pass by not looking: a nameless button is reported."""
    page.goto("/")
    page.evaluate("() => document.querySelector('main').append(document.createElement('button'))")
    assert any("button-name" in line for line in axe_violations(page, "broken on purpose"))


def contrast(one: str, two: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""

    def luminance(color: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", color)[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_focus_ring_stands_out_from_the_brown_buttons(signed_in, shop):
    page = signed_in
    button = page.locator("#grid .card .add-form button").first
    button.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focused from the keyboard: :focus-visible
    expect(button).to_be_focused()
    ring = button.evaluate(
        """el => { const s = getComputedStyle(el), card = getComputedStyle(el.closest('.card'));
            return [s.outlineStyle, parseFloat(s.outlineWidth), parseFloat(s.outlineOffset),
                    s.outlineColor, card.backgroundColor]; }"""
    )
    style, width, offset, color, card_colour = ring
    # A solid ring set off from the button by a gap: it is drawn on the card around the
    # brown (whose own contrast with a blue ring would be weak), where it stands out 3:1.
    assert style == "solid" and width >= 3 and offset >= 2
    assert contrast(color, card_colour) >= 3
    paper = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert contrast(color, paper) >= 3


def test_a_form_level_error_keeps_its_distance_from_the_next_label(page, customer, problems):
    problems.allow_status(422, "/login")
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(customer)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Log in").click()
    error = page.get_by_role("alert").bounding_box()
    label = page.locator("label[for=email]").bounding_box()
    assert label["y"] - (error["y"] + error["height"]) >= 12


def test_every_order_state_a_badge_shows(tab, new_context, shop, customer):
    """Pending, paid and shipped, partly refunded and refunded orders in My Orders, and an
    order that needs attention in the admin's list and page: axe (contrast included) finds
    nothing on any of them."""
    user_id = shop.query(db.select(User.id).where(User.email == customer))[0][0]
    mug = shop.products["MUG-STONE"].id
    soon = utcnow() + timedelta(minutes=20)
    make_orders(shop.app, user_id, mug, status="pending", expires_at=soon, paid_at=None)
    make_orders(shop.app, user_id, mug, fulfilment="shipped", shipped_at=utcnow(), carrier="UPS")
    make_orders(shop.app, user_id, mug, status="partially_refunded", refunded_cents=400)
    make_orders(shop.app, user_id, mug, status="refunded", refunded_cents=1000)
    (flagged,) = make_orders(shop.app, user_id, mug, attention="Paid after it expired.")

    page, audit = tab, Audit(tab)
    log_in(page, customer)
    orders = open_dialog(page, "My Orders", "orders-dialog")
    for status in ("pending", "paid", "partially_refunded", "refunded"):
        expect(orders.locator(f'.order[data-status="{status}"]').first).to_be_visible()
    expect(orders.locator('.order[data-fulfilment="shipped"] .status-shipped')).to_be_visible()
    audit.check("My Orders: pending, paid, shipped, partly refunded, refunded")

    shop.create_admin(ADMIN_EMAIL)
    admin = new_context(viewport=tab.viewport_size).new_page()
    admin_audit = Audit(admin)
    log_in(admin, ADMIN_EMAIL)
    admin.goto("/admin/orders?attention=1")
    expect(admin.locator("#admin-results .status-attention")).to_have_count(1)
    admin_audit.check("admin orders, needing attention")
    admin.goto(f"/admin/orders/{flagged}")
    expect(admin.locator("#admin-order")).to_be_visible()
    admin_audit.check("admin order, needing attention")

    audit.assert_clean(1)
    admin_audit.assert_clean(2)
