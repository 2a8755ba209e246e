"""A customer types a promotion code into the cart, sees the discount and the new total,
pays on Stripe's page, and finds the discount in My Orders and on the receipt (.eml)."""

import re
import threading
from email import message_from_bytes, policy

import pytest
from playwright.sync_api import expect

from browser.helpers import SESSION_PAGE, add, assert_accessible, open_cart, pay, snap
from shop.money import format_money
from shop.notifications.transport import FileTransport
from shop.notifications.worker import Worker
from shop.promotions import services as promotions

pytestmark = pytest.mark.browser


def make_code(shop, code: str, percent: int) -> None:
    """A code as the admin's form makes it."""
    with shop.app.app_context():
        new = promotions.NewPromotion(
            code=code, percent_off=percent, amount_off_cents=None, currency=None,
            max_redemptions=None, expires_at=None, minimum_cents=None, first_order_only=False,
        )  # fmt: skip
        promotions.create(new, None)


def send_mail(shop, directory) -> list:
    """Run the email worker until the outbox is empty; the messages it wrote."""
    worker = Worker(shop.app, FileTransport(str(directory)), threading.Event())
    with shop.app.app_context():
        while worker.send_next():
            pass
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(directory.glob("*.eml"))
    ]


def test_apply_a_code_pay_and_see_the_discount_in_my_orders_and_on_the_receipt(
    signed_in, shop, tmp_path, problems
):
    problems.allow_status(422, "/cart/promotion")  # the misspelt code, on purpose
    page = signed_in
    beans = shop.products["BEAN-ETH-250"]
    make_code(shop, "WELCOME20", 20)
    add(page, beans.name, quantity=2)
    subtotal = 2 * beans.price_in("usd")
    discount = round(subtotal * 0.2)

    cart = open_cart(page)
    code_field = cart.get_by_label("Promotion code")
    code_field.fill("nosuch")
    cart.get_by_role("button", name="Apply").click()
    expect(cart.get_by_role("alert")).to_have_text(
        "That code is not one of ours. Check its spelling."
    )
    expect(code_field).to_have_attribute("aria-invalid", "true")
    code_field.fill("welcome20")
    cart.get_by_role("button", name="Apply").click()
    expect(cart.locator("[data-promotion-code]")).to_have_text("WELCOME20")
    expect(cart.locator("[data-discount-cents]")).to_have_text(f"−{format_money(discount, 'usd')}")
    expect(cart.locator(".cart-promotion [data-total-cents]")).to_have_text(
        format_money(subtotal - discount, "usd")
    )
    assert_accessible(page, "cart with a code")
    snap(page, "cart-with-code")
    cart.get_by_role("button", name="Checkout").click()

    expect(page).to_have_url(SESSION_PAGE)
    expect(page.locator(".checkout-discount")).to_contain_text("WELCOME20")
    pay(page)

    expect(page).to_have_url(re.compile(r"/checkout/success\?session_id=cs_\w+$"))
    orders = page.locator("#orders-dialog")
    expect(orders).to_be_visible()
    detail = orders.locator(".order-detail")
    expect(detail.locator(".order-discount")).to_contain_text("Discount (WELCOME20)")
    expect(detail.locator(".order-discount")).to_contain_text(f"−{format_money(discount, 'usd')}")
    total = page.locator(".order-detail [data-total-cents]").get_attribute("data-total-cents")
    assert int(total) == subtotal - discount  # the test shop offers no shipping rates
    assert_accessible(page, "paid order with a discount")

    [receipt] = [m for m in send_mail(shop, tmp_path) if "receipt" in m["Subject"].lower()
                 or "order" in m["Subject"].lower()]  # fmt: skip
    text = receipt.get_body(preferencelist=("plain",)).get_content()
    html = receipt.get_body(preferencelist=("html",)).get_content()
    assert "Discount (WELCOME20)" in text and f"-{format_money(discount, 'usd')}" in text
    assert "Discount (WELCOME20)" in html
    assert format_money(int(total), "usd") in text
