"""What the shop tells a customer about their account by email: a password reset link, and a
warning when their account sees repeated failed logins.

Each notice is built here as plain data (`AccountNotice`) and handed to `send`, the one
place that calls the notifications outbox (`shop.notifications`, the `account` message
kind and templates/email/account.*); the `worker` process sends it. Call `send` inside the
transaction of the change that causes the notice, before its commit; `cause` names that
change once, so a retry or a second worker never owes the customer a second copy.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from .. import languages
from ..notifications.outbox import enqueue
from .models import User


@dataclass(frozen=True)
class AccountNotice:
    """One email about an account: to whom, why (once per cause), and what it says."""

    recipient: str
    cause: str
    subject: str
    paragraphs: tuple[str, ...]
    action_url: str = ""
    action_label: str = ""
    #: The language it is written in (the account's; English when never chosen).
    language: str = languages.DEFAULT


def _language(user: User) -> str:
    """The language `user`'s emails are written in."""
    return languages.chosen(user.language) or languages.DEFAULT


def _written_for(
    user: User, cause: str, subject, paragraphs: tuple, action_url: str, action_label
) -> AccountNotice:
    """The notice to `user`, its lazy texts written now in the user's language."""
    with force_locale(language := _language(user)):
        return AccountNotice(
            recipient=user.email,
            cause=cause,
            subject=str(subject),
            paragraphs=tuple(str(paragraph) for paragraph in paragraphs),
            action_url=action_url,
            action_label=str(action_label),
            language=language,
        )


def reset_link(user: User, url: str, token_id: str, minutes: int) -> AccountNotice:
    """The email carrying a password reset link (one per link issued)."""
    return _written_for(
        user,
        f"user:{user.id}:password-reset:{token_id}",
        _l("Reset your Northside Roastery password"),
        (
            _l(
                "Someone, hopefully you, asked to reset the password of your Northside "
                "Roastery account."
            ),
            _l(
                "The link below works once, for %(minutes)d minutes. If you did not ask, "
                "ignore this email: your password stays as it is.",
                minutes=minutes,
            ),
        ),
        url,
        _l("Choose a new password"),
    )


def failed_logins(user: User, now: datetime, reset_url: str) -> AccountNotice:
    """The warning that someone keeps failing to sign in to the account (one an hour)."""
    return _written_for(
        user,
        f"user:{user.id}:failed-logins:{now:%Y-%m-%dT%H}",
        _l("Repeated failed sign-ins to your Northside Roastery account"),
        (
            _l(
                "Someone has just tried to sign in to your account with a wrong password, "
                "many times in a row. Further tries from browsers you have not used are paused "
                "for a while; the browsers you sign in from keep working."
            ),
            _l(
                "If it was you, nothing needs doing. If not, your password has held; choose a "
                "stronger one if it is used anywhere else."
            ),
        ),
        reset_url,
        _l("Reset your password"),
    )


def password_guesses(user: User, now: datetime, reset_url: str) -> AccountNotice:
    """The warning that a signed-in session kept giving a wrong current password, and was
    ended (one an hour)."""
    return _written_for(
        user,
        f"user:{user.id}:password-guesses:{now:%Y-%m-%dT%H}",
        _l("Your Northside Roastery account was signed out everywhere"),
        (
            _l(
                "A browser signed in to your account gave a wrong current password many times "
                "in a row, on the page that changes the password or deletes the account. We "
                "have signed your account out on every device."
            ),
            _l(
                "If it was you, sign in again. If not, someone may have had your signed-in "
                "browser: choose a new password."
            ),
        ),
        reset_url,
        _l("Choose a new password"),
    )


def send(notice: AccountNotice) -> None:
    """Hand `notice` to the notifications outbox: the one place account emails leave from.

    In the caller's transaction (the caller commits); once per cause: a second send of the
    same cause (another worker, a retry, the same hour's failures) adds nothing.
    """
    enqueue_account_notice(
        notice.recipient,
        cause=notice.cause,
        subject=notice.subject,
        paragraphs=list(notice.paragraphs),
        action_url=notice.action_url,
        action_label=notice.action_label,
        language=notice.language,
    )


def enqueue_account_notice(
    recipient: str,
    *,
    cause: str,
    subject: str,
    paragraphs: list[str],
    action_url: str = "",
    action_label: str = "",
    language: str = languages.DEFAULT,
) -> bool:
    """A message about a customer's account: a subject, a few paragraphs of plain text and
    an optional button (e.g. a password reset link built with `messages.absolute_url`).

    `cause` names the event once, e.g. "user:7:password-reset:<token id>" or
    "user:7:failed-logins:2026-11-30T14" (one warning an hour at most).
    """
    context = {
        "subject": subject,
        "paragraphs": paragraphs,
        "action_url": action_url,
        "action_label": action_label or action_url,
        "language": language,
    }
    return enqueue("account", recipient, context, cause)
