"""Every route that is not public by design needs a signed-in customer.

Read from the app's url_map, so a route added later without `login_required` fails here
unless it is listed as public on purpose (route_table.PUBLIC_PATHS).
"""

import pytest

from conftest import csrf_token
from route_table import PUBLIC_PATHS, cases, is_public, rule_for, sample_path

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
}
#: Public by design: they stand for Stripe's own hosted page and API (emulator mode only);
#: the session id is an unguessable secret, as on checkout.stripe.com, and the API needs a key.
PUBLIC_BY_DESIGN = {
    "/emulator/checkout/<session_id>": "Stripe's hosted checkout page",
    "/emulator/stripe/v1/<path:rest>": "Stripe's API, behind the secret key",
    "/static/<path:filename>": "static files",
    "/reset-password/<token>": "a reset link: the token is signed, expiring and single-use",
}
#: Routes reading an id from the query string rather than the path.
QUERY_IDS = {"/checkout/success": "session_id"}


def test_every_route_naming_a_thing_is_in_the_table(app):
    with_ids = {rule.rule for rule in app.url_map.iter_rules() if rule.arguments}
    classified = SCOPED_TO_THE_CUSTOMER.keys() | PUBLIC_BY_DESIGN.keys()
    assert with_ids | QUERY_IDS.keys() <= classified
    assert classified <= {rule.rule for rule in app.url_map.iter_rules()}


def test_admin_pages_would_need_an_admin(app):
    """No admin pages yet; when they come, each must refuse a customer (see the test below)."""
    admin = [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]
    if not admin:
        pytest.skip("no /admin routes yet")
    customer = app.test_client()
    for path in admin:
        assert customer.get(path).status_code in (302, 401, 403, 404)
