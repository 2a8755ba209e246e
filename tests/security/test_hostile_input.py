"""Hostile input: script injection, SQL-ish search, open redirects, NUL bytes, huge ids and
bodies, wrong methods. Every answer is a clear 4xx or an escaped page, never a 500."""

import json

import pytest
from flask_login import login_required
from sqlalchemy import func, select

from conftest import PASSWORD, csrf_token
from route_table import all_rules, methods, rule_for, sample_path
from shop.auth.models import User
from shop.catalog.models import Product
from shop.extensions import db

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "' autofocus onfocus='alert(1)",
    '" autofocus onfocus="alert(1)',
    "javascript:alert(1)",
    "{{ 7*7 }}{% print(1) %}",
]
SQLISH = [
    "' OR '1'='1",
    "'; DROP TABLE products; --",
    '" OR 1=1 --',
    "1; SELECT pg_sleep(5)",
    "%' UNION SELECT email, password_hash FROM users --",
    "\\",
    "_",
    "%%",
]


def assert_escaped(html: str, payload: str):
    """`payload` shows as text: none of its markup reaches the page unescaped."""
    assert payload not in html or not any(ch in payload for ch in "<>\"'")
    for dangerous in ("<script>alert", "<img src=x", "<svg onload", "onfocus='", 'onfocus="'):
        if dangerous in payload:
            assert dangerous not in html


def product_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Product))


# --- script injection -----------------------------------------------------------------------


@pytest.mark.parametrize("payload", XSS)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_search_terms_are_escaped(client, seeded, payload, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get("/", query_string={"q": payload}, headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_escaped(html, payload)
    assert "No products match" in html
    assert "49" not in html.split('id="grid"')[1]  # no template evaluated the payload


@pytest.mark.parametrize("payload", XSS[:3])
def test_a_hostile_email_at_registration_is_shown_escaped(app, client, payload):
    for email in (payload, f"{payload}@example.com", f'"{payload}"@example.com'):
        token = csrf_token(client, "/register")
        data = {"email": email, "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token}
        response = client.post("/register", data=data)
        assert response.status_code == 422
        assert_escaped(response.get_data(as_text=True), payload)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_hostile_email_at_login_is_shown_escaped(client):
    payload = XSS[2]
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": payload, "password": "x", "csrf_token": token})
    assert response.status_code == 422
    assert_escaped(response.get_data(as_text=True), payload)


@pytest.fixture
def hostile_catalogue(runner, tmp_path):
    """A product whose name, description and image were written by an attacker, loaded
    through `flask seed --file` as an admin would."""
    entry = {
        "sku": "EVIL-1",
        "name": "<img src=x onerror=alert(1)> Beans",
        "description": '<script>alert(1)</script> and " autofocus onfocus="alert(1)',
        "price_cents": 100,
        "currency": "usd",
        "image": 'x" onerror="alert(1)',
    }
    path = tmp_path / "products.json"
    path.write_text(json.dumps([entry]))
    result = runner.invoke(args=["seed", "--file", str(path)])
    assert result.exit_code == 0, result.output
    return entry


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "customer"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_seeded_product_text_is_escaped_everywhere(
    auth, client, hostile_catalogue, signed_in, htmx
):
    if signed_in:
        auth.create_user()
        assert auth.login().status_code == 302
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get("/", query_string={"q": "Beans"}, headers=headers)
    html = response.get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt; Beans" in html  # listed, as text
    assert_escaped(html, hostile_catalogue["name"])
    assert_escaped(html, hostile_catalogue["description"])
    assert 'onerror="alert' not in html  # the image path cannot break out of src
    if signed_in:
        assert "Quantity of &lt;img" in html  # the add form's label too


# --- SQL-ish search --------------------------------------------------------------------------


@pytest.mark.parametrize("payload", SQLISH)
def test_sql_in_search_is_just_text(app, client, seeded, payload):
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/", query_string={"q": payload}, headers=headers)
        assert response.status_code == 200
        assert "No products match" in response.get_data(as_text=True)
    assert product_count(app) == len(seeded)


def test_an_overlong_search_is_cut_not_refused(client, seeded):
    response = client.get("/", query_string={"q": "beans " * 5000})
    assert response.status_code == 200


# --- NUL bytes and ids -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_args",
    [
        {"path": "/", "query_string": {"q": "beans\x00"}},
        {"path": "/login", "method": "POST", "data": {"email": "ada@example.com\x00"}},
        {"path": "/login", "method": "POST", "data": {"email\x00": "x"}},
        {"path": "/register", "method": "POST", "data": {"email": "a\x00@example.com"}},
    ],
    ids=["search", "login-value", "login-key", "register"],
)
def test_nul_bytes_are_refused_with_400(auth, client, request_args):
    auth.create_user()
    request_args = dict(request_args)
    if request_args.get("method") == "POST":
        token = csrf_token(client, request_args["path"])
        request_args["data"] = {**request_args["data"], "password": PASSWORD, "csrf_token": token}
    response = client.open(**request_args)
    assert response.status_code == 400
    assert "characters the shop does not accept" in response.get_data(as_text=True)


BAD_IDS = ["0", "-1", "2147483648", "9" * 30, "1.5", "1e3", "abc", "%00", "%20", "1%2F2"]


def test_ids_no_table_can_hold_are_not_found(app, auth, client):
    """Any route taking an int id: past 32 bits is 404, not a database error."""

    @app.get("/things/<int:thing_id>")
    @login_required
    def show_thing(thing_id):
        """Stands in for routes such as /cart/items/<product_id>."""
        return str(db.session.get(Product, thing_id))

    auth.create_user()
    assert auth.login().status_code == 302
    for bad in BAD_IDS:
        response = client.get(f"/things/{bad}")
        assert response.status_code in (200, 404), bad
        assert response.status_code == 200 or "does not exist" in response.get_data(as_text=True)
    assert client.get("/things/2147483648").status_code == 404
    assert client.get("/things/2147483647").status_code == 200


INT_ROUTES = [
    (method, rule.rule)
    for rule in all_rules()
    if any(type(c).__name__ == "IntegerConverter" for c in rule._converters.values())
    for method in methods(rule, ("GET", "POST", "PUT", "PATCH", "DELETE"))
]


@pytest.mark.skipif(not INT_ROUTES, reason="no route takes an integer id yet")
@pytest.mark.parametrize(("method", "pattern"), INT_ROUTES)
def test_every_route_taking_an_int_id_survives_huge_ids(app, user, client, method, pattern):
    rule = rule_for(app, pattern)
    huge = {name: 10**20 for name in rule.arguments}
    headers = {"X-CSRFToken": csrf_token(client), "HX-Request": "true"}
    response = client.open(sample_path(rule, **huge), method=method, headers=headers)
    assert response.status_code == 404


# --- sizes and methods -----------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "toast"])
def test_a_body_over_one_megabyte_is_413(client, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    token = csrf_token(client, "/login")
    data = {"email": "a@example.com", "password": "x" * (1024 * 1024), "csrf_token": token}
    response = client.post("/login", data=data, headers=headers)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert ("HX-Retarget" in response.headers) is htmx


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "a" * 10_000 + "@example.com"), ("password", "x" * 10_000)],
)
@pytest.mark.parametrize("path", ["/login", "/register"])
def test_overlong_fields_are_refused_with_422(app, client, path, field, value):
    data = {"email": "ada@example.com", "password": PASSWORD, "confirm": PASSWORD, field: value}
    if field == "password":
        data["confirm"] = value
    data["csrf_token"] = csrf_token(client, path)
    response = client.post(path, data=data)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


# Paths no rule answers GET on (a path may have a GET rule and a POST rule side by side).
_GET_PATHS = {rule.rule for rule in all_rules() if "GET" in (rule.methods or ())}
POST_ONLY = sorted({rule.rule for rule in all_rules()} - _GET_PATHS)


def test_post_only_routes_exist_now():
    assert "/logout" in POST_ONLY


@pytest.mark.parametrize("pattern", POST_ONLY)
@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "customer"])
def test_a_get_on_a_post_only_route_is_405(app, auth, client, pattern, signed_in):
    if signed_in:
        auth.create_user()
        auth.login()
    response = client.get(sample_path(rule_for(app, pattern)))
    assert response.status_code == 405
    assert "GET" not in response.headers["Allow"]
    assert "not allowed" in response.get_data(as_text=True)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "TRACE"])
def test_unsupported_methods_on_pages_are_405(client, method):
    response = client.open("/", method=method, headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 405


GOOD_ENTRY = {"sku": "OK-1", "name": "Beans", "price_cents": 100, "currency": "usd"}


@pytest.mark.parametrize(
    "change",
    [
        {"name": "x" * 201},
        {"name": "Beans\x00"},
        {"sku": "OK\x00"},
        {"price_cents": 10**20},
        {"price_cents": 100_000_000},
        {"description": 5},
        {"description": "x" * 5001},
        {"description": "a\x00b"},
        {"image": ["x.png"]},
        {"image": "x" * 256},
    ],
    ids=lambda change: f"{next(iter(change))}={str(next(iter(change.values())))[:12]!r}",
)
def test_a_seed_entry_the_database_cannot_hold_is_a_clear_error(app, runner, tmp_path, change):
    """`flask seed --file` refuses it with a line naming the field, and writes nothing
    (instead of a database error on PostgreSQL, or a name too long for the order snapshot)."""
    path = tmp_path / "products.json"
    path.write_text(json.dumps([GOOD_ENTRY, {**GOOD_ENTRY, "sku": "OK-2", **change}]))
    result = runner.invoke(args=["seed", "--file", str(path)])
    assert result.exit_code != 0
    assert f"'{next(iter(change))}' must be" in result.output
    assert product_count(app) == 0
