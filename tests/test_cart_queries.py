"""The cart runs a fixed, small number of SQL queries whatever its size (no N+1)."""

import pytest
from cart_helpers import HTMX, clear_cart, fill_cart, make_products

from conftest import count_queries


def queries_with_lines(app, user, shopper, lines: int, action) -> list[str]:
    """The SQL run by `action(shopper, product_ids)` with exactly `lines` lines in the cart."""
    clear_cart(app, user)
    ids = make_products(app, lines + 1, prefix=f"Q{lines}")
    fill_cart(app, user, ids[:lines], quantity=2)
    with count_queries(app) as statements:
        response = action(shopper, ids)
    assert response.status_code in (200, 303), response.get_data(as_text=True)
    return statements


ACTIONS = {
    "GET /cart (htmx)": lambda s, ids: s.client.get("/cart", headers=HTMX),
    "GET /cart (page)": lambda s, ids: s.client.get("/cart"),
    "add to a line": lambda s, ids: s.add(ids[0], 1, htmx=True),
    "add a new line": lambda s, ids: s.add(ids[-1], 1, htmx=True),
    "add (plain form)": lambda s, ids: s.add(ids[0], 1),
    "set a quantity": lambda s, ids: s.set(ids[0], "5", htmx=True),
    "set zero": lambda s, ids: s.set(ids[0], "0", htmx=True),
    "remove": lambda s, ids: s.remove(ids[0]),
}
#: Most queries per action, loading the user included. A mutation is the user, its one
#: statement and the cart reloaded; an add is the user (read locked on PostgreSQL) and its
#: one statement, which says what the cart holds now.
LIMITS = {"GET /cart (htmx)": 2, "GET /cart (page)": 3, "add to a line": 2, "add a new line": 2}


@pytest.mark.parametrize("name", ACTIONS)
def test_query_count_is_the_same_for_1_and_40_lines(app, user, shopper, name):
    action = ACTIONS[name]
    one = queries_with_lines(app, user, shopper, 1, action)
    forty = queries_with_lines(app, user, shopper, 39, action)
    assert len(one) == len(forty), (one, forty)
    assert len(forty) <= LIMITS.get(name, 4), forty


def test_the_shop_page_counts_the_badge_in_one_query(app, user, shopper):
    fill_cart(app, user, make_products(app, 40), quantity=3)
    with count_queries(app) as statements:
        html = shopper.client.get("/").get_data(as_text=True)
    assert ">120</span>" in html
    assert len(statements) == 2, statements  # the user; the grid with the badge's count
    assert "sum(cart_items.quantity)" in statements[1].lower()


def test_an_add_is_the_user_read_locked_and_one_statement(app, user, shopper):
    fill_cart(app, user, make_products(app, 3), quantity=2)
    ids = make_products(app, 1, prefix="LOCK")
    with count_queries(app) as statements:
        note = shopper.add(ids[0], 1, htmx=True)
    assert note.status_code == 200 and 'id="cart-count"' in note.get_data(as_text=True)
    assert ">7</span>" in note.get_data(as_text=True)  # 3 lines of 2, and this one
    assert len(statements) == 2, statements
    user_read, add = (statement.upper() for statement in statements)
    assert user_read.startswith("SELECT") and "FROM USERS" in user_read
    assert "INSERT INTO CART_ITEMS" in add and "RETURNING" in add
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert "FOR NO KEY UPDATE" in user_read  # the lock that serialises this user's adds
        # What is left is computed once, in a materialised CTE the insert and summary read.
        assert add.startswith("WITH PRODUCT AS MATERIALIZED") and add.count("FROM ORDER_ITEMS") == 1
    else:
        assert "FOR " not in user_read  # SQLite: one writer at a time, no lock
