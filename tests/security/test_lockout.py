"""Issue #22, finding 3: strangers cannot lock an owner out of a browser they have signed in
from (OWASP device cookies); a slower ceiling still bounds guessing; the owner is told."""

import pytest
from itsdangerous import URLSafeSerializer

from conftest import PASSWORD, csrf_token
from shop.auth import notices, resets, throttle
from shop.auth.models import User
from shop.extensions import db

WRONG = "not the password"


def attempt(client, email="ada@example.com", password=WRONG, ip="127.0.0.1"):
    """One login attempt from `ip`."""
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


@pytest.fixture
def sent(monkeypatch):
    """The account notices handed to the outbox seam, in order."""
    captured: list[notices.AccountNotice] = []
    monkeypatch.setattr(notices, "send", captured.append)
    return captured


@pytest.fixture
def owners_browser(app, auth):
    """A browser the owner has signed in from before (then logged out)."""
    auth.create_user()
    browser = app.test_client()
    assert attempt(browser, password=PASSWORD).status_code == 302
    assert browser.get_cookie(throttle.DEVICE_COOKIE, path="/login") is not None
    browser.post("/logout", data={"csrf_token": csrf_token(browser)})
    return browser


def test_a_strangers_failures_do_not_lock_the_owners_browser(app, owners_browser, sent):
    stranger = app.test_client()
    for _ in range(10):
        assert attempt(stranger, ip="203.0.113.66").status_code == 422
    assert attempt(stranger, ip="203.0.113.66").status_code == 429
    assert attempt(stranger, password=PASSWORD, ip="203.0.113.66").status_code == 429
    # The owner, in their own browser, is not stopped, even typing a wrong password first.
    assert attempt(owners_browser).status_code == 422
    assert attempt(owners_browser, password=PASSWORD).status_code == 302


def test_nor_do_failures_from_the_owners_own_network(app, owners_browser):
    stranger = app.test_client()  # another browser behind the same address
    for n in range(101):  # past the account's and the address's limits
        attempt(stranger, email=f"user{n % 3}@example.com" if n % 2 else "ada@example.com")
    assert attempt(stranger).status_code == 429
    assert attempt(owners_browser, password=PASSWORD).status_code == 302


def test_a_new_browser_counts_as_a_stranger(app, owners_browser):
    stranger, owner_elsewhere = app.test_client(), app.test_client()
    for _ in range(10):
        attempt(stranger, ip="203.0.113.66")
    assert attempt(owner_elsewhere, password=PASSWORD, ip="198.51.100.2").status_code == 429


def test_a_device_cookie_for_another_account_or_a_forged_one_is_a_stranger(
    app, auth, owners_browser
):
    auth.create_user("mallory@example.com")
    mallory = app.test_client()
    assert attempt(mallory, "mallory@example.com", PASSWORD).status_code == 302
    mallory.post("/logout", data={"csrf_token": csrf_token(mallory)})
    for _ in range(10):
        assert attempt(mallory).status_code == 422
    assert attempt(mallory).status_code == 429
    forged = app.test_client()
    value = URLSafeSerializer("guessed-secret", salt=throttle.DEVICE_SALT).dumps(
        {"a": "anything", "n": "x"}
    )
    forged.set_cookie(throttle.DEVICE_COOKIE, value, path="/login")
    assert attempt(forged).status_code == 429


def test_the_owners_browser_has_a_budget_of_its_own(owners_browser):
    for _ in range(10):
        assert attempt(owners_browser).status_code == 422
    response = attempt(owners_browser)
    assert response.status_code == 429
    assert "from this browser" in response.get_data(as_text=True)


def test_a_slower_ceiling_bounds_guessing_from_many_addresses(app, auth):
    app.config.update(LOGIN_ACCOUNT_CEILING="5 per day")
    auth.create_user()
    client = app.test_client()
    for n in range(5):
        assert attempt(client, ip=f"203.0.113.{n}").status_code == 422
    response = attempt(client, ip="203.0.113.99")
    assert response.status_code == 429
    assert "today" in response.get_data(as_text=True)


def test_the_owner_is_told_once_an_hour(app, owners_browser, sent):
    stranger = app.test_client()
    for _ in range(14):
        attempt(stranger, ip="203.0.113.66")
    assert len(sent) >= 1
    notice = sent[0]
    assert notice.recipient == "ada@example.com"
    assert notice.cause.startswith("user:") and ":failed-logins:" in notice.cause
    assert {n.cause for n in sent} == {notice.cause}  # one cause an hour: the outbox keeps one
    assert notice.action_url == "http://localhost/reset-password"
    assert "wrong password" in " ".join(notice.paragraphs)


def test_no_one_is_told_about_an_unknown_address(app, sent):
    stranger = app.test_client()
    for _ in range(12):
        attempt(stranger, email="nobody@example.com")
    assert sent == []


def test_the_device_cookie_is_kept_to_the_login_form(owners_browser, auth, client):
    response = auth.login()
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("device=")]
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"path=/login", "httponly", "samesite=strict"} <= attributes
    assert "ada" not in header  # the account is named by a digest, never the email


def test_a_reset_link_makes_its_browser_known_to_the_account(app, auth, sent):
    """An owner locked out on a new browser resets the password there, and is let in."""
    user_id = auth.create_user()
    stranger, owner = app.test_client(), app.test_client()
    for _ in range(10):
        attempt(stranger, ip="203.0.113.66")
    assert attempt(owner, password=PASSWORD, ip="198.51.100.2").status_code == 429
    with app.test_request_context():
        token = resets.make_token(db.session.get(User, user_id))
    new = "lantern meadow quartz"
    answer = owner.post(
        f"/reset-password/{token}",
        data={"password": new, "confirm": new, "csrf_token": csrf_token(owner, "/login")},
    )
    assert answer.status_code == 302
    assert attempt(owner, password=new, ip="198.51.100.2").status_code == 302


# --- issue #28: every proof of ownership makes the browser known --------------------------


def strangers_exhaust_the_account(app, ip="203.0.113.66") -> None:
    """Twelve wrong passwords for ada's account from another browser and address."""
    stranger = app.test_client()
    for _ in range(12):
        attempt(stranger, ip=ip)
    assert attempt(stranger, password=PASSWORD, ip=ip).status_code == 429


def forget_device(browser) -> None:
    """The browser loses its device cookie (cleared, or from before device cookies)."""
    browser.delete_cookie(throttle.DEVICE_COOKIE, path="/login")


def test_the_browser_an_account_was_registered_on_keeps_its_own_budget(app, client, auth):
    assert auth.register().status_code == 302
    auth.logout()
    strangers_exhaust_the_account(app)
    assert attempt(client, password=PASSWORD).status_code == 302


def login_while_signed_in(client, password=PASSWORD):
    """The login form posted by a browser that is signed in (a second tab, the back button)."""
    token = csrf_token(client, "/")  # GET /login sends a signed-in browser home
    data = {"email": "ada@example.com", "password": password, "csrf_token": token}
    return client.post("/login", data=data)


def test_a_login_from_a_browser_already_signed_in_makes_it_known(app, client, auth, user):
    forget_device(client)
    assert login_while_signed_in(client).status_code == 302
    assert client.get_cookie(throttle.DEVICE_COOKIE, path="/login") is not None
    auth.logout()
    strangers_exhaust_the_account(app)
    assert attempt(client, password=PASSWORD).status_code == 302


def test_a_wrong_login_from_a_signed_in_browser_is_refused_and_counted(client, user):
    for _ in range(10):
        assert login_while_signed_in(client, WRONG).status_code == 422
    assert login_while_signed_in(client, WRONG).status_code == 429


def test_a_password_change_makes_its_browser_known(app, client, auth, user):
    forget_device(client)
    new = "lantern meadow quartz"
    answer = client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": new,
            "confirm": new,
            "csrf_token": csrf_token(client, "/account"),
        },
    )
    assert answer.status_code == 302
    auth.logout()
    strangers_exhaust_the_account(app)
    assert attempt(client, password=new).status_code == 302


def test_the_account_ceiling_cannot_stop_the_owner_on_the_browser_they_registered_on(
    app, client, auth
):
    app.config.update(LOGIN_ACCOUNT_CEILING="5 per day")
    assert auth.register().status_code == 302
    auth.logout()
    stranger = app.test_client()
    for n in range(5):
        assert attempt(stranger, ip=f"203.0.113.{n}").status_code == 422
    assert "today" in attempt(stranger, ip="203.0.113.99").get_data(as_text=True)
    assert attempt(client, password=PASSWORD).status_code == 302
