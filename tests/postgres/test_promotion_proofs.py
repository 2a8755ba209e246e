"""A code limited to one use holds under real concurrency: 4 gunicorn workers on
PostgreSQL, ten customers paying at the same instant on Stripe's (the emulator's) page."""

import time

import pytest

from conftest import app_config
from shop import create_app
from shop.extensions import db
from shop.promotions import services as promotions

from .shop_server import session_id_of, together
from .test_checkout_proofs import fill_cart

pytestmark = pytest.mark.postgres

CUSTOMERS = 10
REFUSED = "The promotion code on this checkout can no longer be used"


def make_code(database_url: str, code: str, limit: int) -> None:
    """A code made as the admin's form makes it (at Stripe, then in the shop)."""
    app = create_app(app_config(database_url))
    with app.app_context():
        try:
            promotions.create(
                promotions.NewPromotion(
                    code=code, percent_off=30, amount_off_cents=None, currency=None,
                    max_redemptions=limit, expires_at=None, minimum_cents=None,
                    first_order_only=False,
                ),
                None,
            )  # fmt: skip
        finally:
            db.session.remove()
            db.engine.dispose()


def test_ten_customers_racing_for_a_code_with_one_use_get_one_discount(server, products):
    make_code(server.database_url, "LAST-ONE", 1)
    customers = [server.add_customer() for _ in range(CUSTOMERS)]
    urls = []
    for customer in customers:
        fill_cart(customer, products, {"BEAN-ETH-250": 1})
        applied = customer.send("POST", "/cart/promotion", {"code": "last-one"})
        assert applied.status_code == 200 and 'data-promotion-code="LAST-ONE"' in applied.text
        started = customer.send("POST", "/checkout")
        assert started.status_code == 200, started.text[:300]
        urls.append(started.headers["HX-Redirect"])

    def pay(index: int):
        """The customer presses Pay on Stripe's page (a plain form post, as a browser)."""
        customer = customers[index]
        form = {"csrf_token": customer.token, "card_number": "4242 4242 4242 4242"}
        return customer.http.post(
            server.url(f"/emulator/checkout/{session_id_of(urls[index])}"), data=form,
            allow_redirects=False, timeout=60,
        )  # fmt: skip

    answers, seconds = together(CUSTOMERS, pay)

    statuses = sorted(answer.status_code for answer in answers)
    redeemed = server.scalar(
        "SELECT times_redeemed FROM emulator_promotion_codes WHERE code = 'LAST-ONE'"
    )
    charged = server.rows(
        "SELECT id, amount_total, amount_discount FROM emulator_checkout_sessions "
        "WHERE status = 'complete'"
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        paid = server.rows(
            "SELECT discount_cents, promotion_code, total_cents FROM orders WHERE status = 'paid'"
        )
        if paid:
            break
        time.sleep(0.1)
    pending = server.scalar("SELECT count(*) FROM orders WHERE status = 'pending'")
    print(
        f"\n{CUSTOMERS} payments with a one-use code in {seconds:.2f}s: statuses {statuses}, "
        f"redeemed {redeemed}, sessions charged {len(charged)}, paid orders "
        f"{[tuple(row) for row in paid]}, still pending {pending}"
    )
    assert statuses == [303] + [409] * (CUSTOMERS - 1)
    assert redeemed == 1
    assert len(charged) == 1 and charged[0].amount_discount > 0  # one charge, discounted
    assert [(row.promotion_code, row.discount_cents > 0) for row in paid] == [("LAST-ONE", True)]
    assert pending == CUSTOMERS - 1  # nobody else was charged, at full price or at all
    losers = [c for c, a in zip(customers, answers, strict=True) if a.status_code == 409]
    for answer in answers:
        if answer.status_code == 409:
            assert REFUSED in answer.text and "Nothing was charged." in answer.text
    cart = losers[0].get("/cart", htmx=True).text
    assert 'data-reason="used_up"' in cart and "has been used up" in cart
