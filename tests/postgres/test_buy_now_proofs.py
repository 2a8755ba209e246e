"""Buy now keeps the one-pending rule under real concurrency: 4 gunicorn workers on
PostgreSQL, the emulator behind the real stripe SDK."""

from collections import Counter

import pytest

from .shop_server import together
from .test_checkout_proofs import fill_cart

pytestmark = pytest.mark.postgres

CLICKS = 20
ROUNDS = 8
TOLD = "Another checkout of yours started at the same moment"


def test_twenty_simultaneous_buy_nows_make_one_stripe_session(server, products):
    ada = server.add_customer()
    fill_cart(ada, products, {"BEAN-ETH-250": 2})
    tabs = [ada.tab() for _ in range(CLICKS)]

    answers, seconds = together(
        CLICKS, lambda i: tabs[i].send("POST", "/products/GEAR-KETTLE/buy", {"quantity": "2"})
    )

    statuses = Counter(answer.status_code for answer in answers)
    redirects = {answer.headers.get("HX-Redirect") for answer in answers}
    sessions = server.sessions_of(ada.user_id)
    orders = server.rows("SELECT status, from_cart FROM orders WHERE user_id = :u", u=ada.user_id)
    held = server.scalar("SELECT reserved FROM products WHERE sku = 'GEAR-KETTLE'")
    lines = server.rows(
        "SELECT quantity FROM cart_items WHERE user_id = :u", u=ada.user_id
    )  # fmt: skip
    print(
        f"\n{CLICKS} simultaneous Buy now in {seconds:.2f}s: statuses {dict(statuses)}, "
        f"distinct HX-Redirect {len(redirects)}, Stripe sessions {len(sessions)}, "
        f"orders {[tuple(row) for row in orders]}, kettles held {held}"
    )
    assert statuses == {200: CLICKS}
    assert len(sessions) == 1 and redirects == {sessions[0].url}
    assert [tuple(row) for row in orders] == [("pending", False)]
    assert held == 2
    assert [quantity for (quantity,) in lines] == [2]  # the cart is untouched


def test_a_buy_now_racing_a_cart_checkout_leaves_one_pending_order_and_tells_the_loser(
    server, products
):
    outcomes = Counter()
    for _ in range(ROUNDS):
        ada = server.add_customer()
        fill_cart(ada, products, {"BEAN-COL-250": 1})
        tabs = [ada.tab(), ada.tab()]
        requests = [("POST", "/checkout", None), ("POST", "/products/MUG-STONE/buy", {})]

        answers, _ = together(2, lambda i, tabs=tabs, asks=requests: tabs[i].send(*asks[i]))

        pending = server.rows(
            "SELECT session_url, from_cart FROM orders WHERE user_id = :u AND status = 'pending'",
            u=ada.user_id,
        )
        assert len(pending) == 1, pending
        [(url, from_cart)] = pending
        open_sessions = [s for s in server.sessions_of(ada.user_id) if s.status == "open"]
        assert [s.url for s in open_sessions] == [url]  # one payable session, the pending one
        statuses = [answer.status_code for answer in answers]
        for answer in answers:
            if answer.status_code == 200:
                # Whoever was sent to Stripe was sent to the pending order's session, or to
                # one replaced after it was handed out in full (the two did not overlap).
                assert answer.headers["HX-Redirect"] == url or statuses == [200, 200]
            else:
                assert answer.status_code == 409 and TOLD in answer.text, answer.text[:300]
        winner = "cart" if from_cart else "buy now"
        outcomes[(winner, tuple(statuses))] += 1
    print(f"\n{ROUNDS} rounds of Buy now racing Checkout: {dict(outcomes)}")
    told = sum(n for (_, statuses), n in outcomes.items() if 409 in statuses)
    assert told >= ROUNDS // 2  # released together, they overlap: the loser is told
