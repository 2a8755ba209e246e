"""The README's picture: the shop on a desktop with the cart open.

`make screenshot` (UPDATE_SCREENSHOT=1) writes it to docs/screenshot.png; a normal run
only leaves it in test-artifacts/browser/.
"""

import os
import re
import shutil

import pytest
from playwright.sync_api import expect

from browser.helpers import ROOT, add, snap

pytestmark = pytest.mark.browser


def test_the_shop_with_the_cart_open(signed_in, shop):
    page = signed_in
    for sku, quantity in (("BEAN-ETH-250", 2), ("GEAR-V60-02", 1), ("GEAR-KETTLE", 1)):
        add(page, shop.products[sku].name, quantity=quantity)
    expect(page.locator("#cart-count")).to_have_text("4")
    page.evaluate("window.scrollTo(0, 0)")
    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    expect(page.locator("#cart-dialog .cart-line")).to_have_count(3)
    page.locator("#cart-dialog .close").blur()  # no focus ring in the picture
    path = snap(page, "readme-cart-open")
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(path, ROOT / "docs" / "screenshot.png")
