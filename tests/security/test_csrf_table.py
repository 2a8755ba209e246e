"""Every state-changing route refuses a missing or wrong CSRF token with 400.

The table is read from the app's url_map: routes added later are covered without
touching this file. Only the Stripe webhook and the emulator's API are exempt.
"""

import pytest

from conftest import csrf_token
from route_table import CSRF_EXEMPT_PREFIXES, cases, rule_for, sample_path

CASES = cases(keep=lambda rule: not rule.rule.startswith(CSRF_EXEMPT_PREFIXES))
CSRF_MESSAGE = "Your form expired or was not sent from this site"
# Plausible fields, so that only the token can be what is wrong.
FIELDS = {"product_id": "1", "quantity": "1", "email": "ada@example.com", "password": "x" * 10}


def send(client, method, path, token, htmx):
    """The request as a form would send it, or as htmx does (token in a header)."""
    if htmx:
        headers = {"HX-Request": "true"} | ({"X-CSRFToken": token} if token else {})
        return client.open(path, method=method, data=FIELDS, headers=headers)
    data = FIELDS | ({"csrf_token": token} if token else {})
    return client.open(path, method=method, data=data)


def test_the_table_covers_the_routes_that_exist_now():
    assert {("POST", "/login"), ("POST", "/logout"), ("POST", "/register")} <= set(CASES)
    assert {
        ("POST", "/reset-password"),
        ("POST", "/reset-password/<token>"),
        ("POST", "/account/password"),
        ("POST", "/account/logout-everywhere"),
        ("POST", "/account/delete"),
    } <= set(CASES)


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("token", ["missing", "garbage", "another session's"])
@pytest.mark.parametrize(("method", "pattern"), CASES)
def test_a_bad_token_is_refused_with_400(app, user, client, method, pattern, token, htmx):
    value = {
        "missing": None,
        "garbage": "not-a-token",
        "another session's": csrf_token(app.test_client()),
    }[token]
    response = send(client, method, sample_path(rule_for(app, pattern)), value, htmx)
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    # Nothing happened: the customer is still signed in (logout, for one, did not run).
    assert "Log out" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(("method", "pattern"), CASES)
def test_the_right_token_gets_past_the_check(app, user, client, method, pattern):
    """The control for the table above: the requests differ only by the token."""
    path = sample_path(rule_for(app, pattern))
    response = send(client, method, path, csrf_token(client), htmx=False)
    assert response.status_code < 500
    assert CSRF_MESSAGE not in response.get_data(as_text=True)
