"""Property-based: whatever reaches the cart and checkout routes, no 500; a refusal (4xx)
leaves the cart as it was and creates no order or Checkout Session.

Deterministic (derandomize) and small, so CI runs the same examples every time. State is
reset by hand before each example: the customer's cart holds 2 beans, nothing else.
"""

import io
from urllib.parse import quote

import pytest
from cart_helpers import HTMX, cart_lines, clear_cart, fill_cart
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from werkzeug.datastructures import MultiDict

from conftest import csrf_token
from shop.extensions import db
from shop.orders.models import Order
from shop.payments.emulator.models import EmulatorSession

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MAX = 10  # CART_MAX_QUANTITY's default
#: Tables the checkout examples keep; everything else is emptied between examples.
KEEP = {"users", "products", "product_prices", "cart_items"}

#: Numbers of every size and sign, as a form would carry them.
numbers = st.one_of(
    st.integers(-5, 15),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
).map(str)
#: Text close to numbers, and anything at all.
texts = st.one_of(
    st.sampled_from(["", " ", "1 ", "+1", "01", "1_0", "1e1", "0x1", "٣", "１", "1\n", "\x00"]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
)
values = numbers | texts
#: A form field: absent (None), or one value.
field = st.none() | values


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def reset(app, user, beans):
    """The cart as every example starts: 2 beans."""
    clear_cart(app, user)
    fill_cart(app, user, [beans], 2)


def form(token, **fields):
    """The form as posted: absent fields left out."""
    return {"csrf_token": token, **{k: v for k, v in fields.items() if v is not None}}


def assert_clean(response, app, user, before):
    """No 500; a 4xx changed nothing; no order or session appeared either way."""
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert cart_lines(app, user) == before
    assert count(app, Order) == 0 and count(app, EmulatorSession) == 0


@pytest.fixture
def beans(seeded):
    return seeded["BEAN-ETH-250"]


@FUZZ
@given(product_id=field, quantity=field, htmx=st.booleans())
def test_adding_anything_never_fails_and_a_refusal_changes_nothing(
    app, user, client, beans, product_id, quantity, htmx
):
    reset(app, user, beans)
    before = cart_lines(app, user)
    token = csrf_token(client)
    data = form(token, product_id=product_id, quantity=quantity)
    response = client.post("/cart/items", data=data, headers=HTMX if htmx else {})
    assert_clean(response, app, user, before)
    after = cart_lines(app, user)
    if response.status_code < 400:
        changed = {pid for pid in after.keys() | before.keys() if after.get(pid) != before.get(pid)}
        assert len(changed) <= 1 and all(1 <= q <= MAX for q in after.values())


@FUZZ
@given(line=st.integers(-(2**40), 2**70).map(str) | texts, quantity=field, how=st.integers(0, 2))
def test_changing_a_line_by_any_path_never_fails(app, user, client, beans, line, quantity, how):
    """`how`: 0 a plain POST, 1 an htmx POST, 2 an htmx DELETE."""
    reset(app, user, beans)
    before = cart_lines(app, user)
    token = csrf_token(client)
    path = "/cart/items/" + quote(line, safe="")
    if how == 2:
        response = client.delete(path, headers={**HTMX, "X-CSRFToken": token})
    else:
        data = form(token, quantity=quantity)
        response = client.post(path, data=data, headers=HTMX if how else {})
    assert_clean(response, app, user, before)
    after = cart_lines(app, user)
    if response.status_code < 400:
        assert set(after) <= set(before) and all(1 <= q <= MAX for q in after.values())
        if not (line.isascii() and line.isdigit() and int(line) == beans):
            assert after == before  # the request named some other line (or none)


@settings(FUZZ, max_examples=30)
@given(
    fields=st.dictionaries(
        st.sampled_from(["price_cents", "total_cents", "amount", "currency", "product_id", "x"]),
        values,
        max_size=4,
    ),
    empty=st.booleans(),
)
def test_checkout_ignores_whatever_the_client_posts(app, user, client, seeded, fields, empty):
    """Prices come from the database: posted fields change nothing; an empty cart is 409."""
    with app.app_context():  # each example starts without orders, sessions or events
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in KEEP:
                db.session.execute(table.delete())
        # Stripe's state went with the emulator's tables: the account's Customer too.
        db.session.execute(text("UPDATE users SET stripe_customer_id = NULL"))
        db.session.commit()
    clear_cart(app, user)
    if not empty:
        fill_cart(app, user, [seeded["MUG-STONE"]], 2)
    before = cart_lines(app, user)
    token = csrf_token(client)
    response = client.post("/checkout", data={**fields, "csrf_token": token}, headers=HTMX)
    assert response.status_code < 500
    assert cart_lines(app, user) == before
    if any("\x00" in key + value for key, value in fields.items()):
        assert response.status_code == 400  # refused before the route ran
        assert count(app, Order) == 0 and count(app, EmulatorSession) == 0
        return
    if empty:
        assert response.status_code == 409
        assert count(app, Order) == 0 and count(app, EmulatorSession) == 0
        return
    assert response.status_code == 200 and "HX-Redirect" in response.headers
    with app.app_context():
        [order] = db.session.scalars(select(Order))
        [session] = db.session.scalars(select(EmulatorSession))
        mug_price = order.items[0].unit_price_cents
        assert order.total_cents == session.amount_total == 2 * mug_price
        assert order.currency == session.currency == "usd"


# --- shapes a form field can take that are not a single value --------------------------------


def shapes(token: str, product_id: int):
    """Requests whose fields are repeated, bracketed, JSON or files instead of plain values."""
    return {
        "repeated product_id": {
            "data": MultiDict([("product_id", str(product_id)), ("product_id", "x")])
        },
        "repeated quantity": {"data": {"product_id": str(product_id), "quantity": ["1", "99"]}},
        "bracketed names": {"data": {"product_id[]": str(product_id), "quantity[0]": "1"}},
        "a JSON body": {
            "json": {"product_id": product_id, "quantity": 1},
            "headers": {"X-CSRFToken": token},
        },
        "a file as quantity": {
            "data": {"product_id": str(product_id), "quantity": (io.BytesIO(b"1"), "q")},
        },
        "a huge quantity field": {
            "data": {"product_id": str(product_id), "quantity": "9" * 500_000}
        },
    }


SHAPES = list(shapes("t", 1))
ADD = "/cart/items"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("path", [ADD, "/cart/items/{id}"])
def test_odd_field_shapes_are_a_clear_answer_and_change_nothing_they_should_not(
    app, user, client, beans, shape, path
):
    reset(app, user, beans)
    before = cart_lines(app, user)
    token = csrf_token(client)
    request = shapes(token, beans)[shape]
    data = request.get("data")
    if isinstance(data, MultiDict):
        data = data.copy()
        data.add("csrf_token", token)
    elif data is not None:
        data = {**data, "csrf_token": token}
    response = client.post(
        path.format(id=beans), data=data, json=request.get("json"), headers=request.get("headers")
    )
    assert response.status_code < 500
    after = cart_lines(app, user)
    if response.status_code >= 400:
        assert after == before
    else:
        # The first value of a repeated field counts, as for any HTML form; a file is not a
        # form field, so an add without a `quantity` field adds the default one.
        assert shape.startswith("repeated") or (shape, path) == ("a file as quantity", ADD)
        assert 1 <= after[beans] <= MAX
