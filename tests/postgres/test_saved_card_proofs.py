"""One Stripe Customer per account under real concurrency: 4 gunicorn workers on
PostgreSQL, twenty first checkouts of one account released together."""

import pytest

from .shop_server import together
from .test_checkout_proofs import fill_cart

pytestmark = pytest.mark.postgres

CLICKS = 20


def test_twenty_parallel_first_checkouts_make_one_stripe_customer(server, products):
    ada = server.add_customer()
    fill_cart(ada, products, {"BEAN-ETH-250": 1})
    tabs = [ada.tab() for _ in range(CLICKS)]

    answers, seconds = together(CLICKS, lambda i: tabs[i].send("POST", "/checkout"))

    statuses = sorted(answer.status_code for answer in answers)
    customers = server.rows(
        "SELECT id FROM emulator_customers WHERE email = :email", email=ada.email
    )
    stored = server.scalar("SELECT stripe_customer_id FROM users WHERE id = :u", u=ada.user_id)
    sessions = server.sessions_of(ada.user_id)
    print(
        f"\n{CLICKS} parallel first checkouts in {seconds:.2f}s: statuses {statuses}, "
        f"Stripe customers {len(customers)}, sessions {len(sessions)}"
    )
    assert statuses == [200] * CLICKS
    assert [row.id for row in customers] == [stored]
    assert len(sessions) == 1 and sessions[0].customer == stored
