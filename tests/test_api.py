"""The JSON API (`/api/v1`): each endpoint's success and refusals, tokens, problem+json,
pagination, idempotency, and the same rules as the pages (one rule, two doors)."""

from datetime import timedelta

import pytest
from api_helpers import Api, customer, make_token
from cart_helpers import HTMX, cart_lines
from openapi_spec_validator import validate
from sqlalchemy import select, update

from checkout_helpers import add, orders, pay
from conftest import PASSWORD, csrf_token
from shop.api.models import IdempotencyKey
from shop.auth.models import ApiToken
from shop.catalog.models import Product
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import OrderStatus
from shop.payments.emulator.models import EmulatorSession

BEANS, KETTLE, TOTE = "BEAN-ETH-250", "GEAR-KETTLE", "TOTE-CANVAS"
PROBLEM = "application/problem+json"


@pytest.fixture
def api(app, client, user, seeded) -> Api:
    """The signed-in customer's script: a token made on their account page."""
    return Api(app, make_token(client))


def set_stock(app, sku: str, stock: int | None) -> None:
    with app.app_context():
        db.session.execute(update(Product).where(Product.sku == sku).values(stock=stock))
        db.session.commit()


def problem_of(response, status: int) -> dict:
    """The problem+json body of an answer that must have `status`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    return body


# --- tokens --------------------------------------------------------------------------------


def test_a_token_is_shown_once_stored_hashed_and_listed_with_its_last_use(app, client, user):
    token = make_token(client, "stock sync")
    assert token.startswith("nsr_") and len(token) > 40
    with app.app_context():
        [row] = db.session.scalars(select(ApiToken)).all()
        assert row.token_hash != token and token not in (row.prefix, row.name)
        assert token.startswith(row.prefix) and row.last_used_at is None
    page = client.get("/account").get_data(as_text=True)
    assert token not in page  # shown once: the account page never shows it again
    assert "stock sync" in page and "never used" in page
    assert Api(app, token).get("/api/v1/cart").status_code == 200
    page = client.get("/account").get_data(as_text=True)
    assert "last used" in page


@pytest.mark.parametrize(
    ("name", "words"), [("", "Give the token a name"), ("x" * 61, "60 characters")]
)
def test_a_token_needs_a_name(client, user, name, words):
    response = client.post(
        "/account/tokens", data={"name": name, "csrf_token": csrf_token(client, "/account")}
    )
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert "data-new-token" not in response.get_data(as_text=True)


def test_the_token_form_keeps_csrf(client, user):
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 400


def test_a_revoked_token_gets_401_and_someone_elses_token_cannot_be_revoked(app, client, user):
    token = make_token(client)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    other = customer(app)
    response = other.post(f"/account/tokens/{token_id}/revoke",
                          data={"csrf_token": csrf_token(other, "/account")})  # fmt: skip
    assert response.status_code == 404
    assert Api(app, token).get("/api/v1/cart").status_code == 200
    response = client.post(f"/account/tokens/{token_id}/revoke",
                           data={"csrf_token": csrf_token(client, "/account")})  # fmt: skip
    assert response.status_code == 200
    assert f'data-token-id="{token_id}" data-revoked="true"' in response.get_data(as_text=True)
    problem_of(Api(app, token).get("/api/v1/cart"), 401)


def test_unknown_and_revoked_tokens_get_the_same_401(app, client, user):
    token = make_token(client)
    with app.app_context():
        db.session.execute(update(ApiToken).values(revoked_at=utcnow()))
        db.session.commit()
    revoked = Api(app, token).get("/api/v1/cart")
    unknown = Api(app, "nsr_" + "A" * 43).get("/api/v1/cart")
    malformed = Api(app).get("/api/v1/cart", headers={"Authorization": "Basic abc"})
    for answer in (revoked, unknown, malformed):
        problem_of(answer, 401)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert revoked.get_data() == unknown.get_data() == malformed.get_data()


def test_log_out_everywhere_and_a_new_password_revoke_tokens_a_plain_logout_does_not(
    app, client, user, auth
):
    kept = make_token(client, "kept")
    auth.logout()
    assert Api(app, kept).get("/api/v1/cart").status_code == 200  # a logout is not a revoke
    auth.login()
    client.post("/account/logout-everywhere", data={"csrf_token": csrf_token(client, "/account")})
    problem_of(Api(app, kept).get("/api/v1/cart"), 401)
    auth.login()
    second = make_token(client, "second")
    data = {"current": PASSWORD, "password": "a new long passphrase 93", "confirm":
            "a new long passphrase 93", "csrf_token": csrf_token(client, "/account")}  # fmt: skip
    assert client.post("/account/password", data=data).status_code == 302
    problem_of(Api(app, second).get("/api/v1/cart"), 401)


def test_a_deleted_account_s_tokens_stop_working(app, client, user):
    token = make_token(client)
    data = {"current": PASSWORD, "csrf_token": csrf_token(client, "/account")}
    assert client.post("/account/delete", data=data).status_code == 302
    problem_of(Api(app, token).get("/api/v1/cart"), 401)


# --- auth -----------------------------------------------------------------------------------


def test_the_api_takes_no_cookie_a_signed_in_browser_gets_401(app, client, user, seeded):
    answer = client.get("/api/v1/cart")  # the page's session cookie goes with it
    problem_of(answer, 401)
    # ...and no CSRF token is needed with a token, none is taken instead of one.
    answer = client.post("/api/v1/cart/items", json={"sku": BEANS},
                         headers={"X-CSRFToken": csrf_token(client)})  # fmt: skip
    problem_of(answer, 401)
    assert cart_lines(app, user) == {}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/cart"),
        ("post", "/api/v1/cart/items"),
        ("put", f"/api/v1/cart/items/{BEANS}"),
        ("delete", f"/api/v1/cart/items/{BEANS}"),
        ("post", "/api/v1/checkout"),
        ("post", f"/api/v1/products/{BEANS}/buy"),
        ("get", "/api/v1/orders"),
        ("get", "/api/v1/orders/1"),
        ("post", "/api/v1/orders/1/cancel"),
    ],
)
def test_every_customer_endpoint_needs_a_token(app, seeded, method, path):
    answer = getattr(Api(app).client, method)(path, json={} if method in ("post", "put") else None)
    body = problem_of(answer, 401)
    assert "Bearer" in body["detail"]


# --- products ------------------------------------------------------------------------------


def test_products_are_public_paged_stripe_style_and_searchable(app, seeded):
    public = Api(app)
    everything = public.get("/api/v1/products?limit=100").get_json()
    assert everything["has_more"] is False and len(everything["data"]) == len(seeded)
    names = [p["name"] for p in everything["data"]]
    assert names == sorted(names, key=str.casefold) or names == sorted(names)
    first = public.get("/api/v1/products?limit=3").get_json()
    assert first["has_more"] is True and len(first["data"]) == 3
    after = first["data"][-1]["sku"]
    second = public.get(f"/api/v1/products?limit=3&starting_after={after}").get_json()
    assert [p["sku"] for p in second["data"]] == [p["sku"] for p in everything["data"][3:6]]
    found = public.get("/api/v1/products?q=kettle").get_json()["data"]
    assert [p["sku"] for p in found] == [KETTLE]
    beans = public.get(f"/api/v1/products/{BEANS}").get_json()
    assert beans["price"] == {"amount": 1450, "currency": "usd"}
    assert isinstance(beans["price"]["amount"], int)
    assert beans["image_url"].startswith("http") and beans["available"] is True


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"),
     ("colour=red", "colour")],
)  # fmt: skip
def test_bad_list_parameters_are_422_naming_the_field(app, seeded, query, field):
    body = problem_of(Api(app).get(f"/api/v1/products?{query}"), 422)
    assert field in body["errors"]


def test_an_unknown_product_is_404_and_so_is_a_page_after_one(app, seeded):
    problem_of(Api(app).get("/api/v1/products/NOPE"), 404)
    problem_of(Api(app).get("/api/v1/products?starting_after=NOPE"), 404)


def test_prices_are_in_the_account_s_currency(app, client, api):
    client.post("/currency", data={"currency": "eur", "csrf_token": csrf_token(client)})
    beans = api.get(f"/api/v1/products/{BEANS}").get_json()
    assert beans["price"]["currency"] == "eur"
    assert api.get("/api/v1/cart").get_json()["currency"] == "eur"


def test_sold_out_shows_no_units_left(app, seeded):
    set_stock(app, TOTE, 0)
    tote = Api(app).get(f"/api/v1/products/{TOTE}").get_json()
    assert tote["units_left"] == 0 and tote["available"] is False


# --- cart ----------------------------------------------------------------------------------


def test_add_set_and_remove_lines(app, user, api):
    cart = api.post("/api/v1/cart/items", json={"sku": BEANS, "quantity": 2}).get_json()
    assert cart["count"] == 2 and cart["lines"][0]["sku"] == BEANS
    assert cart["subtotal"] == {"amount": 2900, "currency": "usd"} == cart["total"]
    cart = api.post("/api/v1/cart/items", json={"sku": BEANS}).get_json()
    assert cart["lines"][0]["quantity"] == 3
    cart = api.put(f"/api/v1/cart/items/{BEANS}", json={"quantity": 5}).get_json()
    assert cart["lines"][0]["quantity"] == 5 and cart_lines(app, user) == {cart_id(app): 5}
    cart = api.put(f"/api/v1/cart/items/{BEANS}", json={"quantity": 0}).get_json()
    assert cart["lines"] == [] and cart["count"] == 0
    api.post("/api/v1/cart/items", json={"sku": BEANS})
    assert api.delete(f"/api/v1/cart/items/{BEANS}").get_json()["lines"] == []
    assert api.delete(f"/api/v1/cart/items/{BEANS}").status_code == 200  # twice is fine


def cart_id(app, sku: str = BEANS) -> int:
    with app.app_context():
        return db.session.scalar(select(Product.id).where(Product.sku == sku))


def test_a_line_is_capped_at_the_most_per_order(app, api):
    most = app.config["CART_MAX_QUANTITY"]
    api.post("/api/v1/cart/items", json={"sku": BEANS, "quantity": most})
    cart = api.post("/api/v1/cart/items", json={"sku": BEANS, "quantity": 1}).get_json()
    assert cart["lines"][0]["quantity"] == most


def test_changing_a_line_not_in_the_cart_is_404(api):
    problem_of(api.put(f"/api/v1/cart/items/{BEANS}", json={"quantity": 2}), 404)
    problem_of(api.put("/api/v1/cart/items/NOPE", json={"quantity": 2}), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": BEANS, "quantity": 2.5}, "quantity"),
        ({"sku": BEANS, "quantity": "2"}, "quantity"),
        ({"sku": BEANS, "quantity": None}, "quantity"),
        ({"quantity": 1}, "sku"),
        ({"sku": 12}, "sku"),
        ({"sku": BEANS, "colour": "red"}, "colour"),
    ],
)
def test_bad_bodies_are_422_naming_each_field(api, body, field):
    answer = problem_of(api.post("/api/v1/cart/items", json=body), 422)
    assert list(answer["errors"]) == [field]


def test_malformed_json_is_400_another_media_type_415_a_non_object_422(api):
    json_type = {"Content-Type": "application/json"}
    problem_of(api.post("/api/v1/cart/items", data='{"sku": ', headers=json_type), 400)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    problem_of(api.post("/api/v1/cart/items", data=f"sku={BEANS}", headers=form), 415)
    problem_of(api.post("/api/v1/cart/items", data="[1]", headers=json_type), 422)
    problem_of(api.post("/api/v1/cart/items", data='{"sku": "a\\u0000"}', headers=json_type), 400)


def test_too_large_a_body_is_413(api):
    big = '{"sku": "' + "x" * (1024 * 1024) + '"}'
    problem_of(api.post("/api/v1/cart/items", data=big,
                        headers={"Content-Type": "application/json"}), 413)  # fmt: skip


def test_unknown_routes_and_methods_answer_problem_json(api):
    problem_of(api.get("/api/v1/nothing-here"), 404)
    answer = api.delete("/api/v1/products")
    problem_of(answer, 405)
    assert "GET" in answer.headers["Allow"]


def test_a_server_error_is_problem_json(app, api, monkeypatch):
    from shop.cart import services

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "load_cart", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    body = problem_of(api.get("/api/v1/cart"), 500)
    assert "boom" not in body["detail"]


# --- one rule, two doors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page_form", "api_body"),
    [
        ({"quantity": "0"}, {"quantity": 0}),
        ({"quantity": "99"}, {"quantity": 99}),
        ({"quantity": "-3"}, {"quantity": -3}),
    ],
)
def test_the_page_and_the_api_refuse_a_quantity_alike(app, client, api, page_form, api_body):
    product_id = cart_id(app)
    page = client.post("/cart/items", headers={**HTMX, "X-CSRFToken": csrf_token(client)},
                       data={"product_id": product_id, **page_form})  # fmt: skip
    answer = api.post("/api/v1/cart/items", json={"sku": BEANS, **api_body})
    assert page.status_code == answer.status_code == 422
    detail = problem_of(answer, 422)["detail"]
    assert detail in page.get_data(as_text=True)


@pytest.mark.parametrize("case", ["sold_out", "inactive", "not_sold_in"])
def test_the_page_and_the_api_refuse_a_product_alike(app, client, api, case):
    if case == "sold_out":
        set_stock(app, TOTE, 0)
    elif case == "inactive":
        with app.app_context():
            db.session.execute(update(Product).where(Product.sku == TOTE).values(active=False))
            db.session.commit()
    else:
        with app.app_context():
            from shop.catalog.models import ProductPrice

            db.session.execute(
                ProductPrice.__table__.delete().where(
                    ProductPrice.product_id == cart_id(app, TOTE), ProductPrice.currency == "usd"
                )
            )
            db.session.commit()
    page = client.post("/cart/items", headers={**HTMX, "X-CSRFToken": csrf_token(client)},
                       data={"product_id": cart_id(app, TOTE)})  # fmt: skip
    answer = api.post("/api/v1/cart/items", json={"sku": TOTE})
    assert page.status_code == answer.status_code
    assert answer.get_json()["detail"] in page.get_data(as_text=True)


def test_a_checkout_of_an_empty_cart_is_refused_alike(app, client, api):
    page = client.post("/checkout", headers={**HTMX, "X-CSRFToken": csrf_token(client)})
    answer = api.post("/api/v1/checkout")
    assert page.status_code == answer.status_code == 409
    assert problem_of(answer, 409)["detail"] in page.get_data(as_text=True)


# --- checkout and buy now ----------------------------------------------------------------


def test_checkout_gives_the_session_and_a_repeat_resumes_it(app, user, api):
    api.post("/api/v1/cart/items", json={"sku": BEANS, "quantity": 2})
    answer = api.post("/api/v1/checkout")
    assert answer.status_code == 201
    started = answer.get_json()
    assert started["url"].startswith("http") and started["resumed"] is False
    assert started["expires_at"].endswith("Z")
    again = api.post("/api/v1/checkout")
    assert again.status_code == 200 and again.get_json()["resumed"] is True
    assert again.get_json()["order_id"] == started["order_id"]
    [order] = orders(app, user)
    assert order.status == OrderStatus.PENDING and order.id == started["order_id"]
    assert {item.quantity for item in order.items} == {2}


def test_a_paid_checkout_appears_in_the_orders(app, user, api):
    api.post("/api/v1/cart/items", json={"sku": BEANS, "quantity": 2})
    started = api.post("/api/v1/checkout").get_json()
    pay(app, started["url"].rsplit("/", 1)[-1])
    order = api.get(f"/api/v1/orders/{started['order_id']}").get_json()
    assert order["status"] == "paid" and order["payment_url"] is None
    assert order["total"] == {"amount": 2900, "currency": "usd"}
    assert order["lines"] == [{"name": order["lines"][0]["name"], "quantity": 2,
                               "unit_price": {"amount": 1450, "currency": "usd"},
                               "line_total": {"amount": 2900, "currency": "usd"}}]  # fmt: skip
    assert api.get("/api/v1/cart").get_json()["lines"] == []  # bought: out of the cart


def test_buy_now_leaves_the_cart_and_takes_a_currency(app, user, api):
    api.post("/api/v1/cart/items", json={"sku": BEANS})
    answer = api.post(f"/api/v1/products/{KETTLE}/buy", json={"quantity": 1, "currency": "EUR"})
    assert answer.status_code == 201, answer.get_json()
    [order] = orders(app, user)
    assert order.currency == "eur" and [i.quantity for i in order.items] == [1]
    assert api.get("/api/v1/cart").get_json()["count"] == 1
    body = problem_of(api.post(f"/api/v1/products/{KETTLE}/buy", json={"currency": "gbp"}), 422)
    assert "currency" in body["errors"]
    problem_of(api.post("/api/v1/products/NOPE/buy", json={}), 404)
    problem_of(api.post(f"/api/v1/products/{KETTLE}/buy", json={"quantity": 0}), 422)


def test_buy_now_of_what_is_not_left_is_409(app, api):
    set_stock(app, KETTLE, 1)
    body = problem_of(api.post(f"/api/v1/products/{KETTLE}/buy", json={"quantity": 2}), 409)
    assert "Only 1" in body["detail"]


def test_a_cart_code_is_shown_and_goes_to_checkout(app, client, user, api, admin):
    data = {"code": "API10", "percent_off": "10", "csrf_token": csrf_token(admin.client,
            "/admin/promotions")}  # fmt: skip
    assert admin.client.post("/admin/promotions", data=data).status_code in (200, 201, 303)
    api.post("/api/v1/cart/items", json={"sku": BEANS, "quantity": 2})
    client.post("/cart/promotion", data={"code": "API10", "csrf_token": csrf_token(client)})
    cart = api.get("/api/v1/cart").get_json()
    assert cart["code"] == "API10" and cart["discount"]["amount"] == 290
    assert cart["total"]["amount"] == 2610
    started = api.post("/api/v1/checkout").get_json()
    pay(app, started["url"].rsplit("/", 1)[-1])
    order = api.get(f"/api/v1/orders/{started['order_id']}").get_json()
    assert order["code"] == "API10" and order["discount"]["amount"] == 290


# --- orders --------------------------------------------------------------------------------


def test_orders_are_newest_first_and_paged(app, user, api):
    made = []
    for sku in (BEANS, KETTLE, TOTE):
        made.append(api.post(f"/api/v1/products/{sku}/buy", json={}).get_json()["order_id"])
    page = api.get("/api/v1/orders?limit=2").get_json()
    assert [o["id"] for o in page["data"]] == made[::-1][:2] and page["has_more"] is True
    rest = api.get(f"/api/v1/orders?limit=2&starting_after={made[1]}").get_json()
    assert [o["id"] for o in rest["data"]] == [made[0]] and rest["has_more"] is False
    assert all(o["status"] in ("pending", "cancelled") for o in page["data"])
    problem_of(api.get("/api/v1/orders?limit=0"), 422)


def test_someone_elses_order_is_404_never_403(app, api, seeded):
    other = customer(app)
    add(other, seeded[BEANS])
    theirs = Api(app, make_token(other)).post("/api/v1/checkout").get_json()["order_id"]
    problem_of(api.get(f"/api/v1/orders/{theirs}"), 404)
    problem_of(api.post(f"/api/v1/orders/{theirs}/cancel"), 404)
    problem_of(api.get("/api/v1/orders/999999"), 404)
    problem_of(api.get("/api/v1/orders/abc"), 404)


def test_cancel_expires_the_session_and_releases_the_units(app, user, api):
    set_stock(app, KETTLE, 3)
    started = api.post(f"/api/v1/products/{KETTLE}/buy", json={"quantity": 2}).get_json()
    assert api.get(f"/api/v1/products/{KETTLE}").get_json()["units_left"] == 1
    answer = api.post(f"/api/v1/orders/{started['order_id']}/cancel")
    assert answer.status_code == 200 and answer.get_json()["status"] == "cancelled"
    assert api.get(f"/api/v1/products/{KETTLE}").get_json()["units_left"] == 3
    with app.app_context():
        session = db.session.scalar(select(EmulatorSession))
        assert session.status == "expired"
    body = problem_of(api.post(f"/api/v1/orders/{started['order_id']}/cancel"), 409)
    assert "not pending" in body["detail"]


def test_cancel_of_an_order_paid_meanwhile_records_it_paid(app, user, api, monkeypatch):
    started = api.post(f"/api/v1/products/{KETTLE}/buy", json={}).get_json()
    session_id = started["url"].rsplit("/", 1)[-1]
    # Paid at Stripe, but the webhook has not come yet: the order is still pending here.
    from shop.orders import settlement

    real = settlement.fulfil
    monkeypatch.setattr(settlement, "fulfil", lambda *a, **k: None)
    pay(app, session_id)
    monkeypatch.setattr(settlement, "fulfil", real)
    assert orders(app, user)[0].status == OrderStatus.PENDING
    answer = api.post(f"/api/v1/orders/{started['order_id']}/cancel")
    assert answer.status_code == 200 and answer.get_json()["status"] == "paid"


# --- idempotency ---------------------------------------------------------------------------


def test_the_same_key_and_body_replays_the_first_answer(app, user, api):
    body = {"sku": BEANS, "quantity": 2}
    first = api.post("/api/v1/cart/items", json=body, key="add-1")
    again = api.post("/api/v1/cart/items", json=body, key="add-1")
    assert first.status_code == again.status_code == 200
    assert first.get_data() == again.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert cart_lines(app, user) == {cart_id(app): 2}  # added once


def test_the_same_key_with_another_body_is_409(app, user, api):
    api.post("/api/v1/cart/items", json={"sku": BEANS}, key="k")
    body = problem_of(api.post("/api/v1/cart/items", json={"sku": KETTLE}, key="k"), 409)
    assert "another request" in body["detail"]
    assert cart_lines(app, user) == {cart_id(app): 1}


def test_a_refusal_is_replayed_too_but_invalid_input_is_not_kept(app, api):
    set_stock(app, TOTE, 0)
    first = api.post("/api/v1/cart/items", json={"sku": TOTE}, key="tote")
    set_stock(app, TOTE, 5)
    again = api.post("/api/v1/cart/items", json={"sku": TOTE}, key="tote")
    assert first.status_code == again.status_code == 409 and first.get_data() == again.get_data()
    problem_of(api.post("/api/v1/cart/items", json={"sku": BEANS, "quantity": 0}, key="bad"), 422)
    with app.app_context():
        assert db.session.scalar(select(IdempotencyKey.key).where(IdempotencyKey.key == "bad")) \
            is None  # fmt: skip


def test_keys_are_per_token_and_last_24_hours(app, client, user, api):
    other = Api(app, make_token(client, "other"))
    api.post("/api/v1/cart/items", json={"sku": BEANS}, key="same")
    other.post("/api/v1/cart/items", json={"sku": BEANS}, key="same")
    assert cart_lines(app, user) == {cart_id(app): 2}  # each token's key is its own
    with app.app_context():
        db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    again = api.post("/api/v1/cart/items", json={"sku": BEANS}, key="same")
    assert "Idempotent-Replayed" not in again.headers
    assert cart_lines(app, user) == {cart_id(app): 3}
    with app.app_context():
        db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
        from shop.api.idempotency import forget_expired

        assert forget_expired() == 2


def test_a_checkout_replayed_by_key_opens_one_session(app, user, api):
    api.post("/api/v1/cart/items", json={"sku": BEANS})
    first = api.post("/api/v1/checkout", key="pay-1")
    again = api.post("/api/v1/checkout", key="pay-1")
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    with app.app_context():
        assert len(db.session.scalars(select(EmulatorSession)).all()) == 1


def test_a_bad_key_is_400(api):
    problem_of(api.post("/api/v1/cart/items", json={"sku": BEANS}, key="x" * 256), 400)


# --- limits --------------------------------------------------------------------------------


def test_tokens_and_addresses_are_rate_limited_with_retry_after(app_with, seeded):
    limited = app_with(API_TOKEN_RATE_LIMIT="3 per minute", API_IP_RATE_LIMIT="5 per minute",
                       RATELIMIT_ENABLED=True)  # fmt: skip
    from shop.catalog import services as catalog

    with limited.app_context():
        catalog.seed_products(catalog.read_seed_file())
    client = customer(limited, "ada@example.com")
    token = Api(limited, make_token(client))
    answers = [token.get("/api/v1/cart").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    answer = token.get("/api/v1/cart")
    assert int(problem_of(answer, 429) and answer.headers["Retry-After"]) >= 1
    public = Api(limited)
    assert public.get("/api/v1/products").status_code == 429  # the address's 5 are spent


# --- the document -----------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1_and_lists_every_route(app):
    document = Api(app).get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)
    routes: dict[str, set] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            routes.setdefault(path, set()).update(rule.methods)
    assert set(document["paths"]) == set(routes)
    for path, methods in routes.items():
        documented = {m.upper() for m in document["paths"][path]}
        assert documented == methods - {"HEAD", "OPTIONS"}
    for path in document["paths"].values():
        for operation in path.values():
            for status, answer in operation["responses"].items():
                media = "application/json" if status.startswith("2") else PROBLEM
                assert list(answer["content"]) == [media], (status, answer)


def test_the_reference_lists_every_operation_from_the_document(app):
    public = Api(app)
    document = public.get("/api/openapi.json").get_json()
    html = public.get("/api/docs").get_data(as_text=True)
    for path in document["paths"].values():
        for operation in path.values():
            assert f'data-operation-id="{operation["operationId"]}"' in html
            for status in operation["responses"]:
                assert f'data-status="{status}"' in html
    for model in document["components"]["schemas"]:
        assert f'id="model-{model}"' in html
    assert "<script" not in html


def test_the_explorer_is_served_with_its_assets_under_the_csp(app):
    public = Api(app)
    page = public.get("/api/docs/explorer")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    html = page.get_data(as_text=True)
    for asset in ("vendor/swagger-ui/swagger-ui-bundle.js", "vendor/swagger-ui/swagger-ui.css",
                  "js/api-docs.js"):  # fmt: skip
        assert asset in html
        assert public.get(f"/static/{asset}").status_code == 200
    assert "<script>" not in html  # no inline script


def test_the_api_speaks_english_unless_the_client_asks_for_german(app, client, user, seeded):
    client.post("/language", data={"language": "de", "csrf_token": csrf_token(client)})
    api = Api(app, make_token(client))
    assert api.get("/api/v1/products/GEAR-SCALE").get_json()["name"] == "Coffee Scale with Timer"
    german = api.get("/api/v1/products/GEAR-SCALE", headers={"Accept-Language": "de"})
    assert german.get_json()["name"] == "Kaffeewaage mit Timer"
    set_stock(app, TOTE, 0)
    refused = api.post("/api/v1/cart/items", json={"sku": TOTE}, headers={"Accept-Language": "de"})
    assert problem_of(refused, 409)["detail"] == "Baumwoll-Tragetasche ist ausverkauft."
