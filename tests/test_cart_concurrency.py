"""Many requests of one customer at once, through the real routes and real threads.

Runs on the SQLite file database of the test run, or on PostgreSQL with TEST_DATABASE_URL:
adds are single atomic statements, so nothing is lost and the caps hold either way.
"""

import threading

from cart_helpers import Shopper, cart_lines, fill_cart, login_client, make_products

from shop.cart.services import MAX_LINES

THREADS = 12


def together(shoppers, work) -> list:
    """Run `work(shopper, index)` in one thread per shopper, all released at once."""
    start = threading.Barrier(len(shoppers))
    results: list = [None] * len(shoppers)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait(timeout=30)
            results[index] = work(shoppers[index], index)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(shoppers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    assert not errors, errors
    return results


def shoppers(app, count: int = THREADS) -> list[Shopper]:
    """`count` separate clients (own cookies, own connections) of the same customer."""
    return [Shopper(login_client(app)) for _ in range(count)]


def test_concurrent_adds_to_one_line_lose_nothing(app, user, seeded):
    app.config["CART_MAX_QUANTITY"] = 1000  # room for every unit: the exact sum must arrive
    beans = seeded["BEAN-ETH-250"]
    rounds = 5

    def add_repeatedly(shopper, _):
        return [shopper.add(beans, 1, htmx=True).status_code for _ in range(rounds)]

    statuses = together(shoppers(app), add_repeatedly)
    assert all(code == 200 for codes in statuses for code in codes), statuses
    assert cart_lines(app, user) == {beans: THREADS * rounds}


def test_concurrent_adds_stop_exactly_at_the_maximum(app, user, seeded):
    beans = seeded["BEAN-ETH-250"]
    statuses = together(shoppers(app), lambda s, _: s.add(beans, 3, htmx=True).status_code)
    assert statuses == [200] * THREADS  # capped, not refused
    assert cart_lines(app, user) == {beans: app.config["CART_MAX_QUANTITY"]}


def test_concurrent_new_lines_never_exceed_the_line_limit(app, user):
    room = 2
    ids = make_products(app, MAX_LINES - room + THREADS)
    fill_cart(app, user, ids[: MAX_LINES - room])
    new = ids[MAX_LINES - room :]
    statuses = together(shoppers(app), lambda s, i: s.add(new[i], 1, htmx=True).status_code)
    assert sorted(statuses) == [200] * room + [422] * (THREADS - room)
    assert len(cart_lines(app, user)) == MAX_LINES


def test_concurrent_changes_and_removals_leave_a_consistent_cart(app, user, seeded):
    beans, kettle = seeded["BEAN-ETH-250"], seeded["GEAR-KETTLE"]

    def mixed(shopper, index):
        if index % 3 == 0:
            return shopper.remove(kettle).status_code
        if index % 3 == 1:
            return shopper.add(kettle, 1, htmx=True).status_code
        return shopper.add(beans, 1, htmx=True).status_code

    statuses = together(shoppers(app), mixed)
    assert set(statuses) == {200}
    lines = cart_lines(app, user)
    assert lines[beans] == THREADS // 3  # every bean add arrived
    assert lines.get(kettle, 0) <= THREADS // 3
