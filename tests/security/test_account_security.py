"""Accounts under attack: login timing, session renewal, session protection, logout."""

from time import perf_counter

import pytest

from conftest import PASSWORD, csrf_token
from shop.auth import services

TIMED_HASH = "pbkdf2:sha256:20000"  # slow enough that the hash, not the noise, dominates


def test_unknown_email_takes_as_long_as_a_wrong_password(app):
    with app.app_context():
        services.register_user("ada@example.com", PASSWORD, TIMED_HASH)

        def seconds(email: str) -> float:
            start = perf_counter()
            assert services.authenticate(email, "not the password", TIMED_HASH) is None
            return perf_counter() - start

        seconds("nobody@example.com")  # warm caches on both paths
        known, unknown = [], []
        for _ in range(9):  # interleaved, so a busy moment slows both alike
            known.append(seconds("ada@example.com"))
            unknown.append(seconds("nobody@example.com"))
    # The fastest run of each is the one least disturbed by the rest of the machine.
    known, unknown = min(known), min(unknown)
    assert 0.5 < unknown / known < 2, (known, unknown)


def test_login_starts_a_fresh_session(auth, client):
    auth.create_user()
    before = csrf_token(client, "/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone who fixed this session before login"
    assert auth.login().status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]
    assert csrf_token(client) != before  # the pre-login token is worthless now


def test_registration_also_starts_a_fresh_session(auth, client):
    with client.session_transaction() as session:
        session["planted"] = "x"
    assert auth.register().status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"]


def test_session_protection_marks_a_moved_session_not_fresh(app, user, client):
    assert app.login_manager.session_protection in {"basic", "strong"}
    with client.session_transaction() as session:
        assert session["_fresh"] is True
    client.get("/", headers={"User-Agent": "a different browser"})
    with client.session_transaction() as session:
        assert not session.get("_fresh")


def test_logout_answers_only_post_and_forgets_everything(auth, client):
    auth.create_user()
    auth.login(remember=True)
    assert client.get_cookie("remember_token") is not None
    assert client.get("/logout").status_code == 405
    assert "Log out" in client.get("/").get_data(as_text=True)  # a GET logs nobody out
    assert auth.logout().status_code == 302
    assert client.get_cookie("remember_token") is None
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_registration_says_no_more_about_existing_accounts_than_it_must(auth, client):
    """The one thing it must say (log in instead) is said only to a correct form."""
    auth.create_user()
    short = auth.register(password="short", confirm="short").get_data(as_text=True)
    assert "already exists" not in short
    mismatch = auth.register(confirm="something else").get_data(as_text=True)
    assert "already exists" not in mismatch


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "https:evil.example",
        " //evil.example",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://localhost@evil.example/",
    ],
)
@pytest.mark.parametrize("form", ["login", "register"])
def test_next_never_leaves_the_site(auth, client, next_url, form):
    if form == "login":
        auth.create_user()
        response = auth.login(next=next_url)
    else:
        response = auth.register(next=next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # Already signed in, the same link still goes nowhere else.
    again = client.get(f"/{form}", query_string={"next": next_url})
    assert again.status_code == 302 and again.headers["Location"] == "/"
