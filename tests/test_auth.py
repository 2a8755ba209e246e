"""Registration, login and logout through the real forms, with CSRF on."""

import re

import pytest
from sqlalchemy import func, select

from conftest import PASSWORD, csrf_token
from shop.auth.models import User
from shop.extensions import db


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_register_signs_in_and_normalises_email(app, auth, client):
    response = auth.register(email="  Ada@Example.COM ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with app.app_context():
        assert db.session.scalar(select(User.email)) == "ada@example.com"
        assert db.session.scalar(select(User.password_hash)) != PASSWORD
    page = client.get("/").get_data(as_text=True)
    assert "Log out" in page and "Log in to buy" not in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"email": ""}, "Enter your email address."),
        ({"password": "short", "confirm": "short"}, "Use 12 to 128 characters."),
        ({"password": "x" * 129, "confirm": "x" * 129}, "Use 12 to 128 characters."),
        ({"confirm": "something else"}, "The two passwords do not match."),
    ],
)
def test_bad_registration_shows_the_error_and_writes_nothing(app, client, fields, message):
    data = {"email": "ada@example.com", "password": PASSWORD, "confirm": PASSWORD, **fields}
    data["csrf_token"] = csrf_token(client, "/register")
    response = client.post("/register", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_count(app) == 0


def test_duplicate_email_is_refused_whatever_the_case(app, auth, client):
    auth.create_user("ada@example.com")
    response = auth.register(email="ADA@example.com")
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert user_count(app) == 1


def test_registration_without_csrf_token_is_400_and_writes_nothing(app, client):
    response = client.post(
        "/register", data={"email": "ada@example.com", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.status_code == 400
    assert user_count(app) == 0


def test_login_with_a_wrong_token_is_400(auth, client):
    auth.create_user()
    response = client.post(
        "/login", data={"email": "ada@example.com", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_unknown_email_and_wrong_password_get_the_same_message(auth):
    auth.create_user()
    unknown = auth.login(email="nobody@example.com").get_data(as_text=True)
    wrong = auth.login(password="wrong password!").get_data(as_text=True)
    message = "That email and password do not match an account."
    assert message in unknown and message in wrong


def test_login_is_case_insensitive_on_email(auth):
    auth.create_user()
    assert auth.login(email="ADA@EXAMPLE.com").status_code == 302


def test_remember_me_sets_a_remember_cookie(auth, client):
    auth.create_user()
    auth.login(remember=True)
    assert client.get_cookie("remember_token") is not None


def test_without_remember_me_no_remember_cookie(auth, client):
    auth.create_user()
    auth.login()
    assert client.get_cookie("remember_token") is None


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/?q=beans", "/?q=beans"),
        ("/cart", "/cart"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_next_is_honoured_only_for_same_site_paths(auth, next_url, expected):
    auth.create_user()
    response = auth.login(next=next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_logout_is_post_only(user, client):
    assert client.get("/logout").status_code == 405
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_logout_without_csrf_token_keeps_the_session(user, client):
    assert client.post("/logout").status_code == 400
    assert "Log out" in client.get("/").get_data(as_text=True)


def test_anonymous_htmx_request_gets_401_with_hx_redirect(client):
    token = csrf_token(client)
    response = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/"


def test_anonymous_plain_request_is_redirected_to_login(client):
    token = csrf_token(client)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_logged_in_user_visiting_login_goes_home(user, client):
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/"


# --- What assistive technology reads on the forms (issue #18) --------------------------------


def input_named(html: str, name: str) -> str:
    """The `<input>` tag whose name is `name`."""
    return re.search(rf'<input [^>]*name="{name}"[^>]*>', html).group(0)


@pytest.mark.parametrize("path", ["/login", "/register"])
def test_fields_without_errors_have_no_aria_describedby(client, path):
    html = client.get(path).get_data(as_text=True)
    assert "None" not in html
    for name in ("email", "password"):
        tag = input_named(html, name)
        assert "aria-describedby" not in tag and "aria-invalid" not in tag
        assert "autofocus" not in tag


def test_a_refused_login_focuses_its_message_and_keeps_the_email(auth, client):
    auth.create_user()
    html = auth.login(password="not the password").get_data(as_text=True)
    error = re.search(r'<p id="form-error-1" class="form-error"[^>]*>([^<]*)</p>', html)
    assert error.group(1) == "That email and password do not match an account."
    assert 'role="alert" tabindex="-1" autofocus' in error.group(0)
    assert 'value="ada@example.com"' in input_named(html, "email")
    assert "autofocus" not in input_named(html, "email")  # one focus: the message


def test_registration_errors_describe_their_fields_and_the_first_takes_the_focus(client):
    data = {"email": "not-an-email", "password": "short", "confirm": "other"}
    data["csrf_token"] = csrf_token(client, "/register")
    html = client.post("/register", data=data).get_data(as_text=True)
    email, password = input_named(html, "email"), input_named(html, "password")
    assert 'aria-describedby="email-errors"' in email and 'aria-invalid="true"' in email
    assert 'aria-describedby="password-errors"' in password
    assert "autofocus" in email and "autofocus" not in password
    assert '<ul class="field-errors" id="email-errors">' in html
    assert "None" not in html
