"""What the browser scenarios share: viewports, logging in, screenshots, "no page load"."""

import re
from contextlib import contextmanager
from pathlib import Path

from conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


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
