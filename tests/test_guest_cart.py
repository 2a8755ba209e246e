"""A visitor's cart: kept in their signed session cookie, by the same forms, limits and
stock rules as a customer's; merged into the account's cart at login or registration
(quantities added, capped, and the customer told); checkout sends them to log in first."""

import re
import time

from cart_helpers import cart_lines, fill_cart, set_active

from conftest import PASSWORD, count_queries, csrf_token
from shop.cart import guest
from shop.extensions import db

HTMX = {"HX-Request": "true"}


def add(client, product_id, quantity=1, htmx=False):
    """A visitor presses Add on a card."""
    token = csrf_token(client)
    headers = {**HTMX, "X-CSRFToken": token} if htmx else {}
    data = {"product_id": product_id, "quantity": quantity, "csrf_token": token}
    return client.post("/cart/items", data=data, headers=headers)


def lines(client) -> dict[str, str]:
    """The cart dialog's lines: product id -> quantity shown."""
    html = client.get("/cart", headers=HTMX).get_data(as_text=True)
    return dict(re.findall(r'id="cart-qty-(\d+)"[^>]*value="(\d+)"', html))


def badge(client) -> str:
    """The header badge of the shop page."""
    html = client.get("/").get_data(as_text=True)
    return re.search(r'id="cart-count" class="badge"[^>]*>(\d+)<', html)[1]


def test_a_visitor_fills_a_cart_with_the_same_forms(client, seeded):
    beans, kettle = seeded["BEAN-ETH-250"], seeded["GEAR-KETTLE"]
    plain = add(client, beans, 2)
    assert plain.status_code == 303 and plain.headers["Location"] == "/cart"
    note = add(client, kettle, htmx=True)
    assert note.status_code == 200 and "Added. You have 1 ×" in note.get_data(as_text=True)
    assert note.headers["HX-Trigger"] == "cart-changed"
    assert lines(client) == {str(beans): "2", str(kettle): "1"}
    assert badge(client) == "3"
    token = csrf_token(client)
    client.post(f"/cart/items/{beans}", data={"quantity": "5", "csrf_token": token})
    assert lines(client)[str(beans)] == "5"
    client.delete(f"/cart/items/{kettle}", headers={"X-CSRFToken": token})
    assert lines(client) == {str(beans): "5"}


def test_the_same_limits_and_stock_rules(app, client, seeded):
    beans, grinder = seeded["BEAN-ETH-250"], seeded["GEAR-GRINDER"]
    most = app.config["CART_MAX_QUANTITY"]
    add(client, beans, most)
    add(client, beans, 3)
    assert lines(client)[str(beans)] == str(most)  # capped at the line maximum
    set_active(app, grinder, False)
    hidden = add(client, grinder, htmx=True)
    assert hidden.status_code == 404 and "not available" in hidden.get_data(as_text=True)
    assert add(client, 999_999, htmx=True).status_code == 404
    bad = add(client, beans, 0, htmx=True)
    assert bad.status_code == 422
    with app.app_context():
        from shop.catalog.models import Product

        kettle = db.session.get(Product, seeded["GEAR-KETTLE"])
        kettle.stock, kettle.reserved = 2, 2
        db.session.commit()
    sold_out = add(client, seeded["GEAR-KETTLE"], htmx=True)
    assert sold_out.status_code == 409 and "sold out" in sold_out.get_data(as_text=True)


def test_the_cart_is_bounded_and_expires(app, client, seeded):
    now = time.time()
    kept = {"lines": [[n, 1] for n in range(1, guest.MAX_LINES + 20)], "at": now}
    assert len(guest.lines_of(kept, now)) == guest.MAX_LINES
    assert guest.lines_of(kept, now + guest.MAX_AGE + 1) == []
    assert guest.lines_of({"lines": [["1", 2], [True, 1], [3, -1]], "at": now}, now) == []
    assert guest.lines_of("garbage", now) == []


def test_a_visitors_cart_is_their_own(app, client, seeded):
    add(client, seeded["BEAN-ETH-250"], 2)
    other = app.test_client()
    assert lines(other) == {}
    assert badge(other) == "0"


def test_checkout_sends_a_visitor_to_log_in_and_back_to_the_cart(app, client, seeded, auth):
    beans = seeded["BEAN-ETH-250"]
    add(client, beans, 2)
    token = csrf_token(client)
    htmx = client.post("/checkout", headers={**HTMX, "X-CSRFToken": token})
    assert htmx.headers["HX-Redirect"] == "/login?next=/cart"
    user_id = auth.create_user()
    logged_in = client.post(
        "/login?next=/cart",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/cart"
    page = client.get("/cart").get_data(as_text=True)
    assert "The cart you filled before logging in is in your cart now." in page
    assert "open data-open" in page
    assert cart_lines(app, user_id) == {beans: 2}
    with client.session_transaction() as session:
        assert guest.SESSION_KEY not in session  # the visitor's cart is now empty


def test_logging_in_adds_quantities_caps_and_tells(app, client, seeded, auth):
    beans, grinder, mug = seeded["BEAN-ETH-250"], seeded["GEAR-GRINDER"], seeded["MUG-STONE"]
    most = app.config["CART_MAX_QUANTITY"]
    user_id = auth.create_user()
    fill_cart(app, user_id, [beans], quantity=most - 2)
    fill_cart(app, user_id, [mug], quantity=1)
    add(client, beans, 5)
    add(client, mug, 2)
    add(client, grinder, 1)
    set_active(app, grinder, False)  # hidden while the visitor was away
    auth.login()
    assert cart_lines(app, user_id) == {beans: most, mug: 3}
    page = client.get("/cart").get_data(as_text=True)
    assert f"{most} in your cart, the most you can have." in page
    assert "That product is not available. It was not added to your cart." in page


def test_registering_merges_the_cart_too(app, client, seeded):
    beans = seeded["BEAN-ETH-250"]
    add(client, beans, 3)
    token = csrf_token(client, "/register")
    registered = client.post("/register", data={
        "email": "new@example.com", "password": PASSWORD, "confirm": PASSWORD,
        "csrf_token": token,
    })  # fmt: skip
    assert registered.status_code == 302, registered.get_data(as_text=True)[:500]
    with app.app_context():
        from shop.auth.models import User

        user_id = db.session.scalar(db.select(User.id).where(User.email == "new@example.com"))
    assert cart_lines(app, user_id) == {beans: 3}


def test_a_customers_shop_page_reads_nothing_more_after_a_merge(app, client, seeded, auth):
    user_id = auth.create_user()
    auth.login()
    client.get("/")
    with count_queries(app) as before:
        client.get("/")
    auth.logout()
    add(client, seeded["BEAN-ETH-250"], 2)
    auth.login()
    client.get("/")
    with count_queries(app) as after:
        html = client.get("/").get_data(as_text=True)
    assert len(after) == len(before) == 2
    assert cart_lines(app, user_id) == {seeded["BEAN-ETH-250"]: 2}
    assert re.search(r'id="cart-count" class="badge"[^>]*>2<', html)


def test_the_visitors_shop_page_counts_their_cart_without_a_query(app, client, seeded):
    add(client, seeded["BEAN-ETH-250"], 2)
    client.get("/")
    with count_queries(app) as statements:
        html = client.get("/").get_data(as_text=True)
    assert len(statements) == 1  # the cards; the badge comes from the cookie
    assert re.search(r'id="cart-count" class="badge"[^>]*>2<', html)
