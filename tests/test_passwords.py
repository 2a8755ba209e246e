"""Issue #22, finding 6: new passwords are 12+ characters and not guessable (zxcvbn,
offline); with PWNED_PASSWORDS=1 not in a known breach either, failing open."""

import hashlib
import logging

import pytest
from sqlalchemy import func, select

from conftest import FAST_HASH, PASSWORD, csrf_token, serve
from shop.auth import passwords
from shop.auth import services as auth_services
from shop.auth.models import User
from shop.extensions import db

COMMON = ["password1234", "qwertyuiop12", "iloveyou2024", "Password1234!", "aaaaaaaaaaaa"]


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused(password):
    assert len(password) >= passwords.MIN_LENGTH
    assert passwords.problem(password) is not None


def test_length_is_12_to_128_and_a_strong_password_passes():
    assert passwords.problem("x7#Kq9!mZ2w") == "Use 12 to 128 characters."  # 11
    assert passwords.problem(PASSWORD) is None
    assert passwords.problem("ruby kettle lantern " * 6 + "oak") is None  # 123 characters


def test_a_password_made_of_the_owners_email_is_refused():
    email = "quillfeather@example.com"
    assert passwords.problem("quillfeather2024", []) is None
    assert passwords.problem("quillfeather2024", [email]) is not None


def test_the_estimate_is_bounded_on_the_longest_passwords(monkeypatch):
    # zxcvbn's work grows faster than the length: it is only ever given the first
    # ESTIMATED_LENGTH characters (a bound on the work, checked without a stopwatch).
    seen = []
    real = passwords.zxcvbn

    def spy(password, **options):
        seen.append((len(password), options.get("max_length")))
        return real(password, **options)

    monkeypatch.setattr(passwords, "zxcvbn", spy)
    assert passwords.problem("a1!" * 42 + "xy") is not None  # 128 characters of repeats
    assert seen == [(passwords.ESTIMATED_LENGTH, passwords.ESTIMATED_LENGTH)]
    assert passwords.ESTIMATED_LENGTH <= 64


def test_registration_refuses_a_common_password_and_says_why(app, client):
    data = {"email": "ada@example.com", "password": "password1234", "confirm": "password1234"}
    response = client.post(
        "/register", data={**data, "csrf_token": csrf_token(client, "/register")}
    )
    assert response.status_code == 422
    assert "common password" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_an_existing_shorter_password_still_logs_in(app, auth):
    with app.app_context():
        auth_services.register_user("old@example.com", "eight-ch", FAST_HASH)
    assert auth.login("old@example.com", "eight-ch").status_code == 302


def test_create_admin_refuses_a_common_password(app, runner):
    result = runner.invoke(args=["create-admin", "boss@example.com"], input="password1234\n")
    assert result.exit_code != 0 and "common" in result.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None


# --- PWNED_PASSWORDS=1 ------------------------------------------------------------------------


def range_api(breached: str):
    """A stand-in for the Pwned Passwords range API knowing one breached password."""
    digest = hashlib.sha1(breached.encode()).hexdigest().upper()
    seen = []

    def app(environ, start_response):
        seen.append((environ["PATH_INFO"], environ.get("HTTP_ADD_PADDING")))
        prefix = environ["PATH_INFO"].rsplit("/", 1)[-1]
        lines = ["0123456789ABCDEF0123456789ABCDEF012:0"]  # padding
        if prefix == digest[:5]:
            lines.append(f"{digest[5:]}:42")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["\r\n".join(lines).encode()]

    return app, seen


def test_a_breached_password_is_refused_with_only_a_hash_prefix_sent(app):
    breached = "tangerine harbour lamp"
    assert passwords.problem(breached) is None  # strong by the offline rule
    fake, seen = range_api(breached)
    with serve(fake) as url:
        app.config.update(PWNED_PASSWORDS=True, PWNED_PASSWORDS_API=url)
        with app.app_context():
            assert "data breach" in passwords.problem(breached)
            assert passwords.problem(PASSWORD) is None
    prefix = hashlib.sha1(breached.encode()).hexdigest().upper()[:5]
    assert seen[0] == (f"/range/{prefix}", "true")
    assert all(breached not in path for path, _ in seen)


def test_the_breach_check_fails_open_with_a_log_line(app, caplog):
    app.config.update(PWNED_PASSWORDS=True, PWNED_PASSWORDS_API="http://127.0.0.1:1")
    with app.app_context(), caplog.at_level(logging.WARNING):
        assert passwords.problem(PASSWORD) is None
    assert "pwned passwords unreachable" in caplog.text


def test_the_breach_check_is_off_unless_asked_for(app):
    app.config.update(PWNED_PASSWORDS_API="http://127.0.0.1:1")
    assert app.config["PWNED_PASSWORDS"] is False
    with app.app_context():
        assert passwords.problem(PASSWORD) is None
