"""The whole purchase in German, in a real browser: switch with the header's switch, add,
check out, pay on Stripe's page, see My Orders and open the order: every page `lang="de"`,
in German words, money as Germans write it, and axe clean at each step."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import SESSION_PAGE, assert_accessible, log_in

pytestmark = pytest.mark.browser

BEANS_DE = "Äthiopien Yirgacheffe, 250 g"


def german(page) -> None:
    assert page.evaluate("document.documentElement.lang") == "de"


def test_a_purchase_from_start_to_finish_in_german(signed_in, shop):
    page = signed_in
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kaffeebohnen und Zubehör")
    german(page)
    assert_accessible(page, "the shop in German")

    card = page.locator("#grid .card").filter(has=page.get_by_role("heading", name=BEANS_DE))
    expect(card.locator(".price")).to_have_text("14,50\u00a0$")
    card.get_by_label(f"Menge von {BEANS_DE}").fill("2")
    card.get_by_role("button", name="Hinzufügen").click()
    expect(card.locator(".added-note")).to_contain_text("Hinzugefügt. Sie haben 2 × " + BEANS_DE)
    expect(page.locator("#cart-count")).to_have_text("2")

    page.get_by_role("link", name=re.compile(r"^Warenkorb \d")).click()
    dialog = page.locator("#cart-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Ihr Warenkorb")).to_be_visible()
    expect(dialog.locator(".subtotal")).to_contain_text("Zwischensumme 29,00\u00a0$")
    assert_accessible(page, "the cart in German")

    dialog.get_by_role("button", name="Zur Kasse").click()
    expect(page).to_have_url(SESSION_PAGE)
    german(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("An Northside Roastery bezahlen")
    assert_accessible(page, "Stripe's page in German")
    page.get_by_label("Kartennummer").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"bezahlen$")).click()

    orders = page.locator("#orders-dialog")
    expect(orders).to_be_visible()
    german(page)
    expect(orders).to_contain_text("Vielen Dank! Bestellung Nr.")
    expect(orders.locator(".order-detail")).to_contain_text("Was Sie bestellt haben")
    expect(orders.locator(".order-detail")).to_contain_text("2 × " + BEANS_DE)
    expect(orders.locator(".status")).to_have_text("Bezahlt")
    assert_accessible(page, "the paid order in German")

    orders.get_by_role("link", name=re.compile("Alle Bestellungen")).click()
    row = orders.locator(".order-list .order").first
    expect(row).to_contain_text("Bezahlt")
    expect(row.locator(".order-total")).to_have_text("29,00\u00a0$")
    row.get_by_role("link", name=re.compile(r"^Bestellung Nr\.")).click()
    expect(orders.locator(".order-detail")).to_contain_text("Statusverlauf")
    expect(orders.locator(".timeline")).to_contain_text("Zahlung eingegangen")
    assert_accessible(page, "an order's detail in German")


def test_the_switch_works_without_javascript(new_context, shop, customer):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, customer)
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kaffeebohnen und Zubehör")
    german(page)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Coffee beans and brewing gear")
