"""When the database cannot be reached: `/healthz` says 503 and pages a clear 503, never a
stack trace, for visitors and signed-in customers alike.

The database is of the run's kind (PostgreSQL on a closed port with TEST_DATABASE_URL,
else a SQLite file in a missing directory). tests/postgres/test_resilience.py checks the
same under gunicorn, with the database going away under a running server and coming back.
"""

import time

import pytest

from conftest import app_config, csrf_token, unreachable_database_url
from shop import create_app
from shop.auth import sessions

UNAVAILABLE = "briefly unavailable"


@pytest.fixture
def broken(tmp_path):
    """An app whose database does not answer; errors are handled as in production."""
    return create_app(app_config(unreachable_database_url(tmp_path), PROPAGATE_EXCEPTIONS=False))


def signed_in(app, user_id: int = 1):
    """A client carrying a signed-in customer's session cookie (made while the database was up)."""
    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base):  # the client's browser
        browser = sessions.browser_identifier()
    with client.session_transaction() as session:
        # A login id as sessions carry it, bound to this browser (shop.auth.sessions); the
        # loader's lookup is what fails.
        session["_user_id"] = f"{user_id}.token-of-the-session.{int(time.time())}"
        session["_id"] = browser
        session["_fresh"] = True
    return client


def test_healthz_503_when_the_database_is_unreachable(broken):
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "database unavailable"


def test_pages_answer_a_clear_503_when_the_database_is_unreachable(broken):
    response = broken.test_client().get("/")
    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/cart", "/orders"])
def test_a_signed_in_customer_gets_the_503_page_too(broken, path):
    # Rendering the page header loads the user and their cart badge from the database
    # that just failed; that must not turn the 503 into a bare 500.
    response = signed_in(broken).get(path)
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert UNAVAILABLE in body and 'id="cart-count"' in body
    assert "Traceback" not in body


def test_a_signed_in_htmx_request_gets_a_503_toast(broken):
    response = signed_in(broken).get("/cart", headers={"HX-Request": "true"})
    assert response.status_code == 503
    assert response.headers["HX-Retarget"] == "#toasts"
    assert UNAVAILABLE in response.get_data(as_text=True)


def test_a_signed_in_cart_change_gets_a_503_and_the_customer_stays_signed_in(broken):
    client = signed_in(broken)
    token = csrf_token(client)  # the 503 page still hands out a token: it needs no database
    response = client.post("/cart/items", data={"product_id": 1, "csrf_token": token})
    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert session.get("_user_id", "").startswith("1.")  # the outage logs nobody out
