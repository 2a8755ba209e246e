"""The admin's codes page on a desktop and a phone: a refused code is said beside the form
with the field marked, a good one is listed, deactivating it says so; axe clean, and no
sideways scroll on the phone."""

import pytest
from playwright.sync_api import expect

from browser.helpers import PHONE, assert_accessible, log_in, snap
from browser.test_phone import assert_no_horizontal_scroll
from conftest import ADMIN_EMAIL

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 800}, PHONE], ids=["1280px", "390px"]
)
def test_an_admin_makes_and_withdraws_a_code(new_context, shop, viewport, problems):
    problems.allow_status(422, "/admin/promotions")  # the refused form, on purpose
    shop.create_admin(ADMIN_EMAIL)
    page = new_context(viewport=viewport).new_page()
    log_in(page, ADMIN_EMAIL)
    page.goto("/admin/promotions")
    expect(page.get_by_role("heading", name="Promotion codes")).to_be_visible()
    assert_accessible(page, "codes page, empty")

    page.get_by_label("Code", exact=True).fill("SPRING-10")
    page.get_by_label("Percent off").fill("101")
    page.get_by_role("button", name="Create code").click()
    expect(page.get_by_role("alert")).to_contain_text("1 to 100")
    expect(page.get_by_label("Percent off")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Code", exact=True)).to_have_value("SPRING-10")  # nothing lost
    assert_accessible(page, "codes page, a refused code")

    page.get_by_label("Percent off").fill("10")
    page.get_by_label("Limit on uses").fill("50")
    page.get_by_role("button", name="Create code").click()
    row = page.locator('tr[data-code="SPRING-10"]')
    expect(row).to_have_attribute("data-active", "true")
    expect(row).to_contain_text("10% off")
    expect(row).to_contain_text("0 of 50")
    row.get_by_role("button", name="Deactivate SPRING-10").click()
    row = page.locator('tr[data-code="SPRING-10"]')
    expect(row).to_have_attribute("data-active", "false")
    expect(page.get_by_role("status")).to_contain_text("deactivated")
    assert_accessible(page, "codes page, a code withdrawn")
    if viewport is PHONE:
        assert_no_horizontal_scroll(page, "codes page on a phone")
    snap(page, f"admin-promotions-{viewport['width']}")
