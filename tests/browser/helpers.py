"""What the browser scenarios share: viewports, logging in, screenshots, "no page load",
the cart and My Orders dialogs, checking out and paying on the emulator's page,
axe-core's verdict, and where the keyboard focus is."""

import re
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import expect

from conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: axe-core from npm (tests/browser/vendor/README.md): every context runs it as an init
#: script, so the page's CSP is the one the shop sends (no inline script, no bypass).
AXE = Path(__file__).with_name("vendor") / "axe.min.js"


def axe_violations(page, state: str) -> list[str]:
    """axe-core's violations on the page as it is now (every rule axe runs by default:
    WCAG 2.x A and AA and best practices), one readable line per rule and element."""
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{state}: {violation['id']} ({violation['impact']}): {violation['help']} "
        f"at {' '.join(node['target'])}: {node['failureSummary']!r}"
        for violation in results["violations"]
        for node in violation["nodes"]
    ]


def assert_accessible(page, state: str) -> None:
    """No axe-core violation on the page as it is now."""
    violations = axe_violations(page, state)
    assert violations == [], "\n".join(violations)


#: Each column header of every table beside its first cell: [table, header, th align, td align].
COLUMN_ALIGNMENT = """() => [...document.querySelectorAll("table")].flatMap((table, t) => {
  const heads = [...table.querySelectorAll("thead th")];
  const first = table.querySelector("tbody tr");
  if (!first) return [];
  const cells = [...first.children];
  return heads.map((th, i) => cells[i] && [t, th.textContent.trim(),
    getComputedStyle(th).textAlign, getComputedStyle(cells[i]).textAlign]);
}).filter(Boolean)"""


def assert_headers_align(page) -> int:
    """Every column header lines up like the column under it (money columns right-aligned,
    headers too); returns how many columns were compared."""
    columns = page.evaluate(COLUMN_ALIGNMENT)
    side = {"start": "left", "end": "right"}
    crooked = [c for c in columns if side.get(c[2], c[2]) != side.get(c[3], c[3])]
    assert crooked == [], f"headers aligned unlike their column: {crooked}"
    assert columns, "no table column measured"
    return len(columns)


def focused(page) -> str:
    """A short description of the focused element (for messages): tag, id, name."""
    return page.evaluate(
        """() => { const el = document.activeElement;
            return `${el.tagName.toLowerCase()}#${el.id} "${(el.innerText || el.value || "")
                .trim().slice(0, 60)}"`; }"""
    )


def log_in(page, email: str, password: str = PASSWORD) -> None:
    """Log in through the login form and land on the shop page."""
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def card(page, name: str):
    """The product card showing `name`."""
    return page.locator("#grid .card").filter(has=page.get_by_role("heading", name=name))


def until_modal(page, dialog_id: str) -> None:
    """Wait until a dialog the server opened (for readers without JS) has been made modal by
    shop.js: before that, Escape does nothing, as for a visitor without JavaScript."""
    page.wait_for_function(f"() => document.getElementById('{dialog_id}').matches(':modal')")


def open_product(page, name: str):
    """Open a product from its card (its picture and name are one link) and return the
    product dialog."""
    card(page, name).get_by_role("link", name=name).click()
    dialog = page.locator("#product-dialog")
    page.wait_for_function("() => document.getElementById('product-dialog').matches(':modal')")
    return dialog


def add(page, name: str, quantity: int | None = None) -> None:
    """Add a product from its card (optionally typing a quantity first)."""
    product = card(page, name)
    if quantity is not None:
        product.get_by_label(f"Quantity of {name}").fill(str(quantity))
    product.get_by_role("button", name="Add").click()


def snap(page, name: str, full_page: bool = False) -> Path:
    """Save a screenshot under test-artifacts/browser/ (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@contextmanager
def no_page_load(page):
    """Assert the block changed the page in place: no document was loaded, the window lives on."""
    documents = []

    def record(request):
        if request.resource_type == "document" and request.frame == page.main_frame:
            documents.append(request.url)

    page.evaluate("window.__stillHere = true")
    page.on("request", record)
    try:
        yield
    finally:
        page.remove_listener("request", record)
    assert documents == [], f"the page loaded a new document: {documents}"
    assert page.evaluate("window.__stillHere === true"), "the page was reloaded"


SESSION_PAGE = re.compile(r"/emulator/checkout/cs_\w+$")
PAYS = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"


def open_cart(page):
    """Open the cart dialog from the header and return it."""
    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    dialog = page.locator("#cart-dialog")
    expect(dialog).to_be_visible()
    return dialog


def open_orders(page):
    """Open My Orders from the header (in place, as the cart) and return the dialog."""
    dialog = page.locator("#orders-dialog")
    with no_page_load(page):
        page.get_by_role("link", name="My Orders").click()
        expect(dialog).to_be_visible()
    assert dialog.evaluate("d => d.matches(':modal')"), "My Orders is not a modal dialog"
    return dialog


def check_out_one(page, name: str, double_click: bool = False) -> str:
    """Add one of `name`, press Checkout in the cart (twice if asked) and return the
    hosted page's url the browser lands on."""
    add(page, name)
    expect(page.locator("#cart-count")).to_have_text("1")
    checkout = open_cart(page).get_by_role("button", name="Checkout")
    if double_click:
        checkout.dblclick()
    else:
        checkout.click()
    expect(page).to_have_url(SESSION_PAGE)
    return page.url


def pay(page, card_number: str = PAYS) -> None:
    """Type a card number on the hosted page and press Pay."""
    page.get_by_label("Card number").fill(card_number)
    page.get_by_role("button", name=re.compile(r"^Pay\b")).click()


def log_in_for_checkout(page, email: str, password: str = PASSWORD) -> None:
    """A visitor sent from Checkout to log in: log in there and land on the open cart."""
    expect(page).to_have_url(re.compile(r"/login\?next=/cart$"))
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
