"""Refunds under concurrency, with 4 gunicorn workers on PostgreSQL: ten refund posts for
the whole amount make one Stripe refund; two admins refunding 60 % each at once get one
refund and one clear refusal."""

import secrets
from collections import Counter

import pytest
import requests

from metrics_helpers import TOKEN, bearer, changes, key, parse

from .shop_server import completed_event, session_id_of, together

pytestmark = pytest.mark.postgres

#: On top of production settings: /metrics answers, so the proofs can count what moved.
SERVER_SETTINGS = {"METRICS_TOKEN": TOKEN}


def scrape(server) -> dict:
    """One scrape over HTTP (a new connection: any of the workers answers)."""
    response = requests.get(server.url("/metrics"), headers=bearer(), timeout=10)
    assert response.status_code == 200, response.text[:500]
    return parse(response.text)


def paid_order(server, products) -> tuple[int, str]:
    """A customer's order for 4 mugs, paid at Stripe and announced by its webhook."""
    customer = server.add_customer()
    line = {"product_id": products["MUG-STONE"], "quantity": 4}
    assert customer.send("POST", "/cart/items", line).status_code == 200
    session_id = session_id_of(customer.send("POST", "/checkout").headers["HX-Redirect"])
    body, headers = server.webhook(completed_event(server.pay_at_stripe(session_id)))
    assert requests.post(server.url("/stripe/webhook"), data=body, headers=headers).ok
    order_id, intent = server.rows(
        "SELECT id, payment_intent_id FROM orders WHERE stripe_session_id = :s", s=session_id
    )[0]
    return order_id, intent


def an_admin(server):
    """A signed-in admin (a customer account given the flag)."""
    admin = server.add_customer()
    server.execute("UPDATE users SET is_admin = true WHERE id = :u", u=admin.user_id)
    return admin


def stripe_refunds(server, intent: str) -> list:
    """What Stripe holds for the PaymentIntent."""
    return server.stripe_api().v1.refunds.list(params={"payment_intent": intent}).data


@pytest.mark.parametrize("same_form", [True, False], ids=["one form", "ten forms"])
def test_ten_refunds_of_everything_at_once_refund_once(server, products, same_form):
    order_id, intent = paid_order(server, products)
    admin = an_admin(server)
    tabs = [admin.tab() for _ in range(10)]
    shared = secrets.token_hex(16)
    keys = [shared if same_form else secrets.token_hex(16) for _ in tabs]
    path = f"/admin/orders/{order_id}/refunds"
    before = scrape(server)
    answers, seconds = together(
        10, lambda i: tabs[i].send("POST", path, {"amount": "", "full": "on", "key": keys[i]})
    )
    statuses = Counter(answer.status_code for answer in answers)
    made = stripe_refunds(server, intent)
    status, refunded, total = server.rows(
        "SELECT status, refunded_cents, total_cents FROM orders WHERE id = :o", o=order_id
    )[0]
    [[entries]] = server.rows(
        "SELECT count(*) FROM order_events WHERE order_id = :o AND kind = 'refund'", o=order_id
    )
    moved = {
        name: change
        for name, change in changes(before, scrape(server)).items()
        if name[0].startswith(("shop_refunds", "shop_refunded"))
    }
    print(
        f"\n10 refund posts ({'one form' if same_form else 'ten forms'}) in {seconds:.2f}s: "
        f"{dict(statuses)}; Stripe refunds {len(made)}; order {status} {refunded}/{total}; "
        f"refund timeline entries {entries}; refund metrics moved {moved}"
    )
    assert len(made) == 1 and made[0].amount == total
    assert (status, refunded) == ("refunded", total)
    assert entries == 1
    assert moved == {
        key("shop_refunds_total", outcome="succeeded"): 1,
        key("shop_refunded_amount_minor_units_total", currency="usd"): total,
    }
    if same_form:
        assert statuses == {200: 10}  # the first made it, the rest say it was made
    else:
        assert statuses[200] == 1 and statuses[200] + statuses[409] == 10
        assert all("refunded in full already" in a.text for a in answers if a.status_code == 409)


def test_two_admins_refunding_sixty_percent_each_get_one_refund(server, products):
    order_id, intent = paid_order(server, products)
    first, second = an_admin(server), an_admin(server)
    total = server.scalar("SELECT total_cents FROM orders WHERE id = :o", o=order_id)
    sixty = f"{total * 60 // 100 / 100:.2f}"
    admins = [first, second]
    answers, _ = together(
        2,
        lambda i: admins[i].send(
            "POST",
            f"/admin/orders/{order_id}/refunds",
            {"amount": sixty, "key": secrets.token_hex(16)},
        ),
    )
    assert sorted(answer.status_code for answer in answers) == [200, 422]
    refused = next(answer for answer in answers if answer.status_code == 422)
    assert "left to refund" in refused.text and "Nothing was sent to Stripe" in refused.text
    made = stripe_refunds(server, intent)
    assert [refund.amount for refund in made] == [total * 60 // 100]
    status = server.scalar("SELECT status FROM orders WHERE id = :o", o=order_id)
    assert status == "partially_refunded"
