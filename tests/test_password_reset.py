"""Password reset by email: the same answer for any address, a signed link that works
once, for 30 minutes, for its own user, and only until the password changes."""

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from conftest import FAST_HASH, PASSWORD, AuthActions, csrf_token
from shop.auth import notices, resets
from shop.auth import services as auth_services
from shop.auth.models import User
from shop.extensions import db
from shop.models import utcnow

NEW_PASSWORD = "lantern meadow quartz"


@pytest.fixture
def sent(monkeypatch):
    """The account notices handed to the outbox seam, in order."""
    captured: list[notices.AccountNotice] = []
    monkeypatch.setattr(notices, "send", captured.append)
    return captured


def ask(client, email="ada@example.com", ip="127.0.0.1"):
    """Ask for a reset link through the form."""
    token = csrf_token(client, "/reset-password")
    return client.post(
        "/reset-password",
        data={"email": email, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def path_of(notice: notices.AccountNotice) -> str:
    """The reset page's path in a notice's link."""
    return re.sub(r"^https?://[^/]+", "", notice.action_url)


def choose(client, path, password=NEW_PASSWORD, confirm=None):
    """Set a new password on a reset page."""
    token = csrf_token(client, "/login")
    data = {"password": password, "confirm": confirm or password, "csrf_token": token}
    return client.post(path, data=data)


def token_for(app, user_id: int, **payload) -> str:
    """A reset token for the user, as the shop makes it (or with `payload` changed)."""
    with app.test_request_context():
        user = db.session.get(User, user_id)
        return resets._serializer().dumps({"u": user.id, "f": resets.fingerprint(user), **payload})


def test_the_answer_is_the_same_whether_or_not_the_account_exists(auth, client, sent):
    auth.create_user()
    known, unknown = ask(client), ask(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/login"
    assert "If an account uses that address" in client.get("/login").get_data(as_text=True)
    assert [n.recipient for n in sent] == ["ada@example.com"]


def test_the_link_goes_to_the_owner_through_the_outbox_seam(app, auth, client, sent):
    user_id = auth.create_user()
    ask(client, " ADA@example.com ")
    [notice] = sent
    assert notice.recipient == "ada@example.com"
    assert notice.cause.startswith(f"user:{user_id}:password-reset:")
    assert re.fullmatch(r"http://localhost/reset-password/[\w.-]+", notice.action_url)
    assert "30 minutes" in " ".join(notice.paragraphs)


def test_the_link_sets_a_new_password_and_ends_every_session(app, auth, client, sent):
    auth.create_user()
    signed_in = app.test_client()
    AuthActions(app, signed_in).login(remember=True)
    ask(client)
    page = client.get(path_of(sent[0]))
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    answer = choose(client, path_of(sent[0]))
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    assert signed_in.get("/orders").status_code == 302  # its session ended
    assert auth.login(password=PASSWORD).status_code == 422
    assert auth.login(password=NEW_PASSWORD).status_code == 302


def test_a_link_works_once(auth, client, sent):
    auth.create_user()
    ask(client)
    assert choose(client, path_of(sent[0])).status_code == 302
    again = choose(client, path_of(sent[0]), password="another strong passphrase")
    assert again.status_code == 404
    assert "expired or was already used" in again.get_data(as_text=True)
    assert client.get(path_of(sent[0])).status_code == 404


def test_a_link_expires_after_30_minutes(app, auth, client, monkeypatch):
    user_id = auth.create_user()
    issued = time.time() - resets.RESET_LINK_MINUTES * 60 - 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(issued))
    stale = token_for(app, user_id)
    monkeypatch.undo()
    assert client.get(f"/reset-password/{stale}").status_code == 404
    assert choose(client, f"/reset-password/{stale}").status_code == 404


def test_a_link_for_another_user_cannot_reset_this_one(app, auth, client):
    ada, grace = auth.create_user(), auth.create_user("grace@example.com")
    graces = token_for(app, grace)
    with app.app_context():
        grace_print = resets.fingerprint(db.session.get(User, grace))
    # Grace's fingerprint with Ada's id, signed with the real key: still refused.
    swapped = token_for(app, ada, f=grace_print)
    assert choose(client, f"/reset-password/{swapped}").status_code == 404
    # Grace's own link, tampered to name Ada: the signature breaks.
    payload, rest = graces.split(".", 1)
    forged = URLSafeTimedSerializer("another key", salt=resets.RESET_SALT).dumps({"u": ada})
    assert choose(client, f"/reset-password/{forged}").status_code == 404
    assert choose(client, f"/reset-password/{payload}x.{rest}").status_code == 404
    assert auth.login(password=PASSWORD).status_code == 302  # Ada's password is unchanged


def test_a_link_stops_working_when_the_password_changes(app, auth, client):
    user_id = auth.create_user()
    token = token_for(app, user_id)
    with app.app_context():
        auth_services.set_password(
            db.session.get(User, user_id), "changed meanwhile elsewhere", FAST_HASH
        )
    assert client.get(f"/reset-password/{token}").status_code == 404


def test_the_new_password_follows_the_rule(auth, client, sent):
    auth.create_user()
    ask(client)
    weak = choose(client, path_of(sent[0]), password="password1234")
    assert weak.status_code == 422
    mismatch = choose(client, path_of(sent[0]), confirm="something else entirely")
    assert mismatch.status_code == 422
    assert choose(client, path_of(sent[0])).status_code == 302  # the link still works after


def test_requests_are_rate_limited_per_address_asked_for(auth, client, sent):
    auth.create_user()
    for n in range(5):
        assert ask(client, ip=f"198.51.100.{n}").status_code == 302
    limited = ask(client, ip="198.51.100.77")
    assert limited.status_code == 429
    assert len(sent) == 5


def test_a_deleted_account_gets_no_link(app, auth, client, sent):
    user_id = auth.create_user()
    with app.app_context():
        db.session.get(User, user_id).deleted_at = utcnow()
        db.session.commit()
    assert ask(client).status_code == 302
    assert sent == []
