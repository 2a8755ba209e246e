"""Account emails go through the notifications outbox: a reset link, and the warning about
repeated failed logins, once per cause, rendered and sent by the worker."""

import re

from sqlalchemy import select
from test_notifications import send_all

from conftest import csrf_token
from shop.extensions import db
from shop.notifications.models import OutboxMessage
from shop.notifications.transport import FileTransport


def account_rows(app) -> list[OutboxMessage]:
    """The outbox's account messages, oldest first, detached."""
    with app.app_context():
        found = list(
            db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "account")
                .order_by(OutboxMessage.id)
            )
        )
        db.session.expunge_all()
        return found


def ask_for_a_link(client, email: str):
    """The reset form, posted."""
    token = csrf_token(client, "/reset-password")
    return client.post("/reset-password", data={"email": email, "csrf_token": token})


def test_a_reset_link_is_owed_in_the_outbox_and_sent_by_the_worker(app, auth, client, tmp_path):
    auth.create_user()
    assert ask_for_a_link(client, "nobody@example.com").status_code == 302
    assert account_rows(app) == []  # no account, no message, the same answer
    assert ask_for_a_link(client, "ada@example.com").status_code == 302
    [row] = account_rows(app)
    assert row.recipient == "ada@example.com" and ":password-reset:" in row.cause
    link = row.context["action_url"]
    assert re.fullmatch(r"http://localhost/reset-password/[\w.-]+", link)

    assert send_all(app, FileTransport(str(tmp_path))) == 1
    [eml] = tmp_path.glob("*.eml")
    text = eml.read_text()
    assert "Reset your Northside Roastery password" in text
    assert link in text.replace("=\n", "")  # quoted-printable may wrap long lines
    path = link.removeprefix("http://localhost")
    assert client.get(path).status_code == 200  # the link in the email works


def test_repeated_failures_owe_the_owner_one_warning(app, auth, client):
    auth.create_user()
    stranger = app.test_client()
    for _ in range(14):
        token = csrf_token(stranger, "/login")
        stranger.post(
            "/login",
            data={"email": "ada@example.com", "password": "wrong password", "csrf_token": token},
            environ_base={"REMOTE_ADDR": "203.0.113.66"},
        )
    [row] = account_rows(app)  # four refusals, one message: the cause names the hour
    assert row.recipient == "ada@example.com" and ":failed-logins:" in row.cause
    assert row.context["subject"] == "Repeated failed sign-ins to your Northside Roastery account"
