"""The click storm under gunicorn with threaded workers (`--threads 4`, as a deployer may set
through GUNICORN_CMD_ARGS): 50 parallel checkouts of one customer, five times over, on
PostgreSQL. Every answer is a redirect to the one session; nothing waits on the pool."""

from collections import Counter

import pytest

from .shop_server import together
from .test_checkout_proofs import fill_cart

pytestmark = pytest.mark.postgres

SERVER_SETTINGS = {"GUNICORN_CMD_ARGS": "--threads 4", "CHECKOUT_RATE_LIMIT": "10000 per minute"}
CLICKS = 50
ROUNDS = 5


def test_fifty_parallel_checkouts_on_threaded_workers(server, products):
    ada = server.add_customer()
    fill_cart(ada, products, {"BEAN-ETH-250": 2, "GEAR-KETTLE": 1})
    tabs = [ada.tab() for _ in range(CLICKS)]
    skus = ["MUG-STONE", "BEAN-ETH-250", "GEAR-KETTLE", "MUG-STONE", "BEAN-ETH-250"]
    for round_ in range(ROUNDS):
        answers, seconds = together(CLICKS, lambda i: tabs[i].send("POST", "/checkout"))
        statuses = Counter(answer.status_code for answer in answers)
        urls = {answer.headers.get("HX-Redirect") for answer in answers}
        open_ = [s for s in server.sessions_of(ada.user_id) if s.status == "open"]
        print(
            f"\nround {round_ + 1}: {CLICKS} parallel POST /checkout on 4 workers x 4 threads "
            f"in {seconds:.2f}s: {dict(statuses)}, {len(urls)} distinct redirect, "
            f"{len(open_)} open session"
        )
        assert statuses == {200: CLICKS}
        assert len(open_) == 1 and urls == {open_[0].url}
        fill_cart(ada, products, {skus[round_]: 1})  # the next round replaces the session
    pending = server.scalar(
        "SELECT count(*) FROM orders WHERE user_id = :u AND status = 'pending'", u=ada.user_id
    )
    assert pending == 1
    assert "Using worker: gthread" in server.log.read_text()  # threads were really on
    assert server.booted_workers() == 4  # and no worker died on the way
