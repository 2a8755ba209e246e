"""Every route that is not public by design needs a signed-in customer.

Read from the app's url_map, so a route added later without `login_required` fails here
unless it is listed as public on purpose (route_table.PUBLIC_PATHS).
"""

import re

import pytest

from admin_helpers import paid, stored, timeline
from conftest import csrf_token
from route_table import PUBLIC_PATHS, cases, is_admin, is_public, rule_for, sample_path

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PRIVATE = cases(METHODS, keep=lambda rule: not is_public(rule))


def test_every_listed_public_path_exists(app):
    assert {rule.rule for rule in app.url_map.iter_rules()} >= PUBLIC_PATHS


def test_the_table_covers_the_routes_that_exist_now():
    assert ("POST", "/logout") in PRIVATE
    account = {
        ("GET", "/account"),
        ("POST", "/account/password"),
        ("POST", "/account/logout-everywhere"),
        ("GET", "/account/data"),
        ("POST", "/account/delete"),
    }
    assert account <= set(PRIVATE)


@pytest.mark.parametrize(("method", "pattern"), PRIVATE)
def test_a_visitor_is_sent_to_log_in(app, client, method, pattern):
    path = sample_path(rule_for(app, pattern))
    token = csrf_token(client)
    response = client.open(path, method=method, data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(("method", "pattern"), PRIVATE)
def test_a_visitor_using_htmx_gets_401_and_a_way_to_log_in(app, client, method, pattern):
    path = sample_path(rule_for(app, pattern))
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_token(client)}
    response = client.open(path, method=method, headers=headers)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/"


# --- what a signed-in customer can reach of another customer's things -----------------------
#
# Every route that names a thing by id is listed here with how it is scoped, so a new route
# taking an id fails test_every_route_naming_a_thing_is_in_the_table until it is classified.

#: Looked up only within the signed-in customer's own rows.
SCOPED_TO_THE_CUSTOMER = {
    "/cart/items/<int:product_id>": "the customer's own cart line for that product",
    "/checkout/success": "session_id must be one of the customer's own orders",
    "/orders/<int:order_id>": "one of the customer's own orders (anyone else's is a 404)",
    "/products/<sku>/buy": "an active product, bought by the signed-in customer for themselves",
    "/favourites/<int:product_id>/cart": "a product put in the signed-in customer's own cart",
    "/account/payment-methods/<pm_id>/remove": "a card on the customer's own Stripe Customer",
    "/account/tokens/<int:token_id>/revoke": "one of the customer's own API tokens (else 404)",
    # The JSON API: the token's owner is the customer (tests/test_api.py covers each).
    "/api/v1/cart/items/<sku>": "a line of the token owner's own cart",
    "/api/v1/products/<sku>/buy": "an active product, bought by the token's owner",
    "/api/v1/orders/<int:order_id>": "one of the token owner's orders (anyone else's: 404)",
    "/api/v1/orders/<int:order_id>/cancel": "one of the token owner's orders (else 404)",
}
#: Public by design: they stand for Stripe's own hosted page and API (emulator mode only);
#: the session id is an unguessable secret, as on checkout.stripe.com, and the API needs a key.
PUBLIC_BY_DESIGN = {
    "/emulator/checkout/<session_id>": "Stripe's hosted checkout page",
    "/emulator/stripe/v1/<path:rest>": "Stripe's API, behind the secret key",
    "/products/<sku>": "the catalogue's product pages: active products, shown to anyone",
    "/api/v1/products/<sku>": "the catalogue's products in JSON, shown to anyone",
    "/static/<path:filename>": "static files",
    "/reset-password/<token>": "a reset link: the token is signed, expiring and single-use",
}
#: Any order, for admins only (the admin area's guard; tested below from the url_map).
ADMIN_ONLY = {
    "/admin/orders/<int:order_id>": "any order, read by an admin",
    "/admin/orders/<int:order_id>/shipment": "any order, shipped by an admin",
    "/admin/orders/<int:order_id>/refunds": "any paid order, refunded by an admin",
    "/admin/products/<sku>": "any product, its stock set or hidden by an admin",
    "/admin/promotions/<code>/deactivate": "any promotion code, withdrawn by an admin",
}
#: What a form under /admin is sent in these tests: enough for every admin form to be valid.
ADMIN_FORM = {
    "carrier": "UPS",
    "tracking_number": "1Z1",
    "stock": "3",
    "active": "on",
    "full": "on",
    "code": "GUARD-NEW",
    "percent_off": "10",
}


#: A signed CSRF token: payload, timestamp, signature (itsdangerous).
CSRF_TOKEN = re.compile(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27}")


def without_tokens(response) -> str:
    """A page with its CSRF tokens blanked: a token carries the second it was signed, so two
    pages a second apart differ there and nowhere else."""
    return CSRF_TOKEN.sub("TOKEN", response.get_data(as_text=True))


#: Routes reading an id from the query string rather than the path.
QUERY_IDS = {"/checkout/success": "session_id"}


def test_every_route_naming_a_thing_is_in_the_table(app):
    with_ids = {rule.rule for rule in app.url_map.iter_rules() if rule.arguments}
    classified = SCOPED_TO_THE_CUSTOMER.keys() | PUBLIC_BY_DESIGN.keys() | ADMIN_ONLY.keys()
    assert with_ids | QUERY_IDS.keys() <= classified
    assert classified <= {rule.rule for rule in app.url_map.iter_rules()}


# --- the admin area: admins only --------------------------------------------------------------
#
# Read from the url_map too: an admin route added later is covered by these tests at once.

ADMIN_ROUTES = cases(METHODS, keep=is_admin)


def test_the_admin_table_covers_the_admin_routes_that_exist_now():
    assert {("GET", "/admin"), ("POST", "/admin/orders/<int:order_id>/shipment")} <= set(
        ADMIN_ROUTES
    )
    assert set(ADMIN_ROUTES) <= set(PRIVATE)  # so visitors are sent to log in (tests above)


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize(("method", "pattern"), ADMIN_ROUTES)
def test_a_customer_reaches_no_admin_route(app, client, user, order, method, pattern, htmx):
    """With a valid token and the id of their own paid order: the 404 of a made-up page, and
    nothing changes."""
    order_id = paid(app, order).id
    path = sample_path(rule_for(app, pattern), order_id=order_id, sku="GEAR-GRINDER")
    token = csrf_token(client)
    headers = {"HX-Request": "true", "X-CSRFToken": token} if htmx else {}
    data = {"csrf_token": token, **ADMIN_FORM, "stock": "0"}
    response = client.open(path, method=method, data=data, headers=headers)
    made_up = client.open("/no-such-page", method=method, data=data, headers=headers)
    assert response.status_code == made_up.status_code == 404
    assert without_tokens(response) == without_tokens(made_up)
    assert stored(app, order_id).fulfilment == "unfulfilled"
    assert stored(app, order_id).refunded_cents == 0
    assert [kind for kind, *_ in timeline(app, order_id)] == ["created", "paid"]
    assert "Sold out" not in client.get("/").get_data(as_text=True)  # the stock is untouched


@pytest.mark.parametrize(("method", "pattern"), ADMIN_ROUTES)
def test_an_admin_gets_past_the_guard(app, admin, order, method, pattern):
    """The control for the test above: the same requests from an admin are served."""
    order_id = paid(app, order).id
    token = csrf_token(admin.client, "/admin")
    made = {"csrf_token": token, "code": "GUARD", "percent_off": "10"}
    assert admin.client.post("/admin/promotions", data=made).status_code == 303
    path = sample_path(rule_for(app, pattern), order_id=order_id, sku="GEAR-GRINDER", code="GUARD")
    response = admin.client.open(path, method=method, data={"csrf_token": token, **ADMIN_FORM})
    assert response.status_code in (200, 303)
