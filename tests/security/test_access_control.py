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
