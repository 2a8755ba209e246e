"""The admin's products page fits a desktop (1280 px) and a phone (390 px): no table wider
than its panel, rows stacked on the phone, and a hidden product says "Hidden" in words."""

import pytest
from playwright.sync_api import expect

from browser.helpers import PHONE, assert_accessible, assert_headers_align, log_in, snap
from browser.test_phone import assert_no_horizontal_scroll
from conftest import ADMIN_EMAIL

pytestmark = pytest.mark.browser

WIDER_THAN_ITS_BOX = """() => {
  const wrap = document.querySelector("#admin-products");
  const table = wrap.querySelector("table");
  return [table.getBoundingClientRect().width, wrap.clientWidth];
}"""


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 800}, PHONE], ids=["1280px", "390px"]
)
def test_the_products_page_fits_and_names_a_hidden_product(new_context, shop, viewport):
    shop.create_admin(ADMIN_EMAIL)
    page = new_context(viewport=viewport).new_page()
    log_in(page, ADMIN_EMAIL)
    page.goto("/admin/products")
    expect(page.get_by_role("heading", name="Products", exact=True)).to_be_visible()
    width = viewport["width"]

    mug = shop.products["MUG-STONE"]
    row = page.locator(f'tr[data-sku="{mug.sku}"]')
    expect(row.get_by_text("Hidden", exact=True)).to_have_count(0)
    row.get_by_label(f"Show {mug.name} in the shop").uncheck()
    row.get_by_role("button", name=f"Save {mug.name}").click()
    row = page.locator(f'tr[data-sku="{mug.sku}"]')
    expect(row).to_have_attribute("data-active", "false")
    expect(row.get_by_text("Hidden", exact=True)).to_be_visible()
    expect(row.get_by_role("status")).to_contain_text(mug.sku)

    table, box = page.evaluate(WIDER_THAN_ITS_BOX)
    assert table <= box + 0.5, f"the table is {table:.0f}px wide in a {box}px panel"
    assert_no_horizontal_scroll(page, f"products at {width}px")
    if width < 600:
        # Stacked: a row's cells sit one above another, each named by its column.
        cells = row.locator("td")
        first, second = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
        assert second["y"] >= first["y"] + first["height"] - 0.5, "cells side by side"
        expect(cells.nth(0)).to_have_attribute("data-label", "Price")
    else:
        assert assert_headers_align(page) == 8
    assert_accessible(page, f"admin products at {width}px")
    snap(page, f"admin-products-{width}", full_page=True)
