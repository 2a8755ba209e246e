"""Cart lines under concurrent traffic from one customer, with 4 gunicorn workers."""

import random
from collections import Counter

import pytest

from .shop_server import together

pytestmark = pytest.mark.postgres

MAXIMUM = 1500  # above the 1000 units the adds bring, so a lost or doubled add shows
SERVER_SETTINGS = {"CART_MAX_QUANTITY": str(MAXIMUM)}
THREADS = 8
ADDS_EACH = 125


def test_eight_threads_adding_to_one_line_arrive_at_the_exact_total(server, products):
    ada = server.add_customer()
    beans = products["BEAN-ETH-250"]
    server.execute("UPDATE products SET stock = NULL WHERE id = :p", p=beans)  # no stock cap
    tabs = [ada.tab() for _ in range(THREADS)]

    def add_repeatedly(index: int) -> Counter:
        """One tab pressing "add one" ADDS_EACH times."""
        tab = tabs[index]
        return Counter(
            tab.send("POST", "/cart/items", {"product_id": beans, "quantity": 1}).status_code
            for _ in range(ADDS_EACH)
        )

    counts, seconds = together(THREADS, add_repeatedly)
    statuses = sum(counts, Counter())
    quantity = server.scalar(
        "SELECT quantity FROM cart_items WHERE user_id = :u AND product_id = :p",
        u=ada.user_id,
        p=beans,
    )
    writes = server.scalar(
        "SELECT count(*) FROM proof_cart_writes WHERE user_id = :u", u=ada.user_id
    )
    print(
        f"\n{THREADS} threads x {ADDS_EACH} adds in {seconds:.2f}s "
        f"({THREADS * ADDS_EACH / seconds:.0f} requests/s): statuses {dict(statuses)}, "
        f"final quantity {quantity}, row writes {writes}"
    )
    assert statuses == {200: THREADS * ADDS_EACH}
    assert quantity == THREADS * ADDS_EACH
    assert writes == THREADS * ADDS_EACH  # one insert, then one update per add


def test_mixed_adds_sets_and_removals_never_leave_a_quantity_out_of_range(server, products):
    bob = server.add_customer()
    lines = [products["BEAN-COL-250"], products["MUG-STONE"]]
    tabs = [bob.tab() for _ in range(THREADS)]
    operations = 40

    def mixed(index: int) -> Counter:
        """Random adds (up to 600 units), sets (0 to the maximum) and removals."""
        tab, rng, seen = tabs[index], random.Random(index), Counter()
        for _ in range(operations):
            product, kind = rng.choice(lines), rng.choice(["add", "add", "set", "remove"])
            if kind == "add":
                data = {"product_id": product, "quantity": rng.randint(1, 600)}
                answer = tab.send("POST", "/cart/items", data)
            elif kind == "set":
                data = {"quantity": rng.randint(0, MAXIMUM)}
                answer = tab.send("POST", f"/cart/items/{product}", data)
            else:
                answer = tab.send("DELETE", f"/cart/items/{product}")
            seen[f"{kind} {answer.status_code}"] += 1
        return seen

    counts, seconds = together(THREADS, mixed)
    outcomes = sum(counts, Counter())
    low, high, writes = server.rows(
        "SELECT min(new_quantity), max(new_quantity), count(*) FROM proof_cart_writes "
        "WHERE user_id = :u AND op <> 'DELETE'",
        u=bob.user_id,
    )[0]
    final = dict(
        server.rows("SELECT product_id, quantity FROM cart_items WHERE user_id = :u", u=bob.user_id)
    )
    print(
        f"\n{THREADS} threads x {operations} mixed requests in {seconds:.2f}s: "
        f"{dict(sorted(outcomes.items()))}; {writes} quantities written, "
        f"lowest {low}, highest {high}; final cart {final}"
    )
    # Setting a line another tab just removed is the only refusal (404, cart unchanged).
    assert set(outcomes) <= {"add 200", "set 200", "set 404", "remove 200"}, outcomes
    assert sum(outcomes.values()) == THREADS * operations
    assert writes > 0 and low >= 1 and high <= MAXIMUM
    assert all(1 <= quantity <= MAXIMUM for quantity in final.values())
