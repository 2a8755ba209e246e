"""The last units of a product under a rush, with 4 gunicorn workers on PostgreSQL: never
oversold, released by expiry, and a late payment recorded (and flagged), not lost."""

import subprocess
from collections import Counter

import pytest
import requests
from test_deploy import paas_env

from shop import ROOT

from .shop_server import (
    DEMO_API_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    completed_event,
    session_id_of,
    together,
)

pytestmark = pytest.mark.postgres

CUSTOMERS, UNITS = 30, 5


def levels(server, product_id: int) -> tuple[int, int]:
    """(stock, reserved) as the database has them."""
    row = server.rows("SELECT stock, reserved FROM products WHERE id = :p", p=product_id)[0]
    return row[0], row[1]


def checkout_all(customers) -> list:
    """Every customer presses Checkout at the same instant."""
    answers, _ = together(len(customers), lambda i: customers[i].send("POST", "/checkout"))
    return answers


def deliver(server, event: dict) -> int:
    """Stripe delivers a signed event to the server's webhook."""
    body, headers = server.webhook(event)
    return requests.post(server.url("/stripe/webhook"), data=body, headers=headers, timeout=30)


def expired_event(session: dict) -> dict:
    """`checkout.session.expired` about `session`."""
    return {**completed_event(session), "type": "checkout.session.expired"}


def test_the_last_units_under_a_rush_expiry_and_a_late_payment(server, products):
    grinder = products["GEAR-GRINDER"]
    server.execute("UPDATE products SET stock = :n, reserved = 0 WHERE id = :p", n=UNITS, p=grinder)
    customers = [server.add_customer() for _ in range(CUSTOMERS)]
    for customer in customers:
        answer = customer.send("POST", "/cart/items", {"product_id": grinder, "quantity": 1})
        assert answer.status_code == 200

    # 1. Thirty customers race for five units.
    answers = checkout_all(customers)
    statuses = Counter(answer.status_code for answer in answers)
    winners = [c for c, a in zip(customers, answers, strict=True) if a.status_code == 200]
    refused = [c for c, a in zip(customers, answers, strict=True) if a.status_code == 409]
    print(f"\n{CUSTOMERS} customers, {UNITS} units: {dict(statuses)}")
    assert statuses == {200: UNITS, 409: CUSTOMERS - UNITS}
    assert all("is sold out" in a.text for a in answers if a.status_code == 409)
    assert levels(server, grinder) == (UNITS, UNITS)
    sessions = {
        c.user_id: session_id_of(a.headers["HX-Redirect"])
        for c, a in zip(customers, answers, strict=True)
        if a.status_code == 200
    }

    # 2. Two sessions expire at Stripe; its events release two units.
    for customer in winners[:2]:
        expired = server.stripe_api().v1.checkout.sessions.expire(sessions[customer.user_id])
        assert deliver(server, expired_event(expired.to_dict())).status_code == 200
    assert levels(server, grinder) == (UNITS, UNITS - 2)
    grid = requests.get(server.url("/"), headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert 'data-sku="GEAR-GRINDER" data-available="2"' in grid.text

    # 3. Two of those refused try again and get them.
    again = checkout_all(refused[:3])
    assert sorted(answer.status_code for answer in again) == [200, 200, 409]
    assert levels(server, grinder) == (UNITS, UNITS)

    # 4. No word from Stripe about one session long past its expiry: the shop releases it
    #    itself (the same duty the worker runs), and a refused customer buys the unit...
    late = winners[2]
    server.execute(
        "UPDATE orders SET expires_at = now() AT TIME ZONE 'utc' - interval '10 minutes' "
        "WHERE user_id = :u AND status = 'pending'",
        u=late.user_id,
    )
    env = paas_env(
        DATABASE_URL=server.database_url,
        SECRET_KEY=SECRET_KEY,
        STRIPE_EMULATOR="1",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_EMULATOR_API_KEY=DEMO_API_KEY,
        PUBLIC_URL=f"https://{server.host}",
    )
    swept = subprocess.run(
        ["flask", "orders", "expire-overdue", "--no-stripe"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert swept.returncode == 0 and "expired: 1" in swept.stdout, swept.stdout + swept.stderr
    [bought] = checkout_all(refused[3:4])
    assert bought.status_code == 200 and levels(server, grinder) == (UNITS, UNITS)

    # 5. ...then the customer's payment, begun in time, completes at Stripe after all.
    paid_late = server.pay_at_stripe(sessions[late.user_id])
    assert deliver(server, completed_event(paid_late)).status_code == 200
    status, hold, attention = server.rows(
        "SELECT status, stock_hold, attention FROM orders WHERE stripe_session_id = :s",
        s=sessions[late.user_id],
    )[0]
    assert (status, hold) == ("paid", "sold_late") and "released" in attention

    # 6. Every other held session is paid: one unit more was sold than there were.
    held = server.rows(
        "SELECT stripe_session_id FROM orders WHERE status = 'pending' AND stock_hold = 'held'"
    )
    for (session_id,) in held:
        assert deliver(server, completed_event(server.pay_at_stripe(session_id))).status_code == 200
    print(f"after the late payment and the sales: levels {levels(server, grinder)}")
    assert levels(server, grinder) == (-1, 0)
    assert (
        server.scalar("SELECT min(stock - reserved) FROM products WHERE id <> :p", p=grinder) >= 0
    )
