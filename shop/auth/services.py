"""Account rules: creating users, checking passwords, admins and the demo customer."""

from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import utcnow
from . import notices, tokens
from .models import User, new_session_token

#: Session keys a login keeps although it starts a fresh session (the currency chosen; a
#: visitor's cart, which the cart merges once the customer is logged in).
KEPT_AT_LOGIN: set[str] = set()


def keep_at_login(key: str) -> None:
    """Keep the session's `key` across the fresh session a login starts."""
    KEPT_AT_LOGIN.add(key)


@lru_cache(maxsize=4)
def decoy_hash(method: str) -> str:
    """A hash made like real ones, checked for unknown emails so both answers take as long."""
    return generate_password_hash("not a real password", method=method)


class EmailTaken(Exception):
    """An account with this (normalised) email already exists."""


def find_user(email: str) -> User | None:
    """The user with this email, however it was typed."""
    return db.session.scalar(select(User).where(User.email == User.normalise_email(email)))


def register_user(email: str, password: str, hash_method: str) -> User:
    """Create a customer; the unique index settles two registrations racing."""
    user = User(
        email=User.normalise_email(email),
        password_hash=generate_password_hash(password, method=hash_method),
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise EmailTaken(email) from None
    return user


def authenticate(email: str, password: str, hash_method: str = "scrypt") -> User | None:
    """The user if the password matches; unknown emails cost the same hash check.

    `hash_method` is the one new passwords are hashed with, so the decoy check costs what
    checking a real account's password does.
    """
    user = find_user(email)
    if user is None or user.deleted_at is not None:
        check_password_hash(decoy_hash(hash_method), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def end_sessions(user: User) -> None:
    """End every login session and remember-me cookie of `user`: a new session token."""
    user.session_token = new_session_token()
    db.session.commit()


def end_everywhere(user: User) -> None:
    """Log `user` out everywhere: every session and remember-me cookie, and every API
    token (a plain logout leaves the tokens, which scripts use without any session)."""
    tokens.revoke_all(user.id)
    end_sessions(user)


def password_matches(user: User, password: str) -> bool:
    """Whether `password` is the user's current one (a re-check before a sensitive change)."""
    return user.deleted_at is None and check_password_hash(user.password_hash, password)


def set_password(user: User, password: str, hash_method: str) -> None:
    """Give `user` a new password and end every session they had (a reset or a change)."""
    user.password_hash = generate_password_hash(password, method=hash_method)
    user.session_token = new_session_token()
    tokens.revoke_all(user.id)  # whoever knew the old password may have made one
    db.session.commit()


def warn_of_failed_logins(email: str, reset_url: str) -> None:
    """Tell the owner of this email's account, if any, that strangers keep failing to sign
    in to it (once an hour: the notice's cause names the hour)."""
    user = find_user(email)
    if user is None or user.deleted_at is not None:
        return
    notices.send(notices.failed_logins(user, utcnow(), reset_url))
    db.session.commit()


def stop_password_guesses(user_id: int, reset_url: str) -> None:
    """A session ran out of current-password guesses: end every session of the account
    (the cookie that guessed, and any copy of it) and tell the owner, in one commit."""
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        return
    user.session_token = new_session_token()
    notices.send(notices.password_guesses(user, utcnow(), reset_url))
    db.session.commit()


def set_admin(email: str, password: str, hash_method: str) -> tuple[User, bool]:
    """Create an admin, or promote an existing user (keeping their password if none given)."""
    user = find_user(email)
    created = user is None
    if created:
        user = User(email=User.normalise_email(email), password_hash="")
        db.session.add(user)
    if password:
        user.password_hash = generate_password_hash(password, method=hash_method)
    user.is_admin = True
    db.session.commit()
    return user, created


def ensure_user(email: str, password: str, hash_method: str) -> User:
    """Make sure a customer with this email and password exists (the demo login)."""
    user = find_user(email)
    if user is None:
        return register_user(email, password, hash_method)
    if not check_password_hash(user.password_hash, password):
        user.password_hash = generate_password_hash(password, method=hash_method)
        db.session.commit()
    return user


def set_currency(user_id: int, currency: str) -> None:
    """Remember the currency the customer shops in on their account."""
    # Lock: one UPDATE of the row; the last switch wins, as the customer meant.
    db.session.execute(update(User).where(User.id == user_id).values(currency=currency))
    db.session.commit()


def set_language(user_id: int, language: str) -> None:
    """Remember the language the customer reads the shop and their emails in."""
    # Lock: one UPDATE of the row; the last switch wins, as the customer meant.
    db.session.execute(update(User).where(User.id == user_id).values(language=language))
    db.session.commit()
