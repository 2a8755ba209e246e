"""Personal access tokens for the JSON API: made on the account page, shown once, kept as
a hash, revocable one by one, and all revoked with "log out everywhere" or a new password.

A token is `nsr_` and 43 url-safe characters (32 random bytes). Looking one up is one
indexed equality on its SHA-256: an unknown token and a revoked one cost the same query
and get the same answer, and nothing about a stored token leaks through timing.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update

from ..extensions import db
from ..models import ID_MAX, utcnow
from .models import ApiToken, User
from .sessions import SignedIn

PREFIX = "nsr_"
TOKEN_BYTES = 32
#: Characters of a token kept in clear to name it (the prefix and 6 more).
SHOWN = len(PREFIX) + 6
NAME_MAX = 60
#: Tokens one account may hold at once (revoked ones do not count).
TOKENS_MAX = 20
#: How stale `last_used_at` may grow before a request writes it again: one write a
#: minute per token, not one per request.
LAST_USED_EVERY = timedelta(minutes=1)

#: The token's row and its live owner, by hash (built once: it runs on every API request).
_BY_HASH = (
    select(
        ApiToken.id,
        ApiToken.token_hash,
        ApiToken.revoked_at,
        ApiToken.last_used_at,
        User.id,
        User.email,
        User.is_admin,
        User.session_token,
        User.currency,
        User.language,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"), User.deleted_at.is_(None))
)


class TokenRefused(ValueError):
    """A token could not be made; the message says why."""


@dataclass(frozen=True)
class Made:
    """A new token: its row and the token itself, which is never shown again."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class Caller:
    """Who an API request's token belongs to."""

    token_id: int
    user: SignedIn


def digest(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_name(raw: str | None) -> str:
    """The token's name, trimmed: 1 to NAME_MAX characters, or TokenRefused."""
    name = " ".join((raw or "").split())
    if not name:
        raise TokenRefused(_("Give the token a name, such as the script or app that uses it."))
    if len(name) > NAME_MAX:
        raise TokenRefused(_("Keep the name to %(num)d characters.", num=NAME_MAX))
    return name


def make_token(user_id: int, raw_name: str | None) -> Made:
    """A new token for `user_id` named `raw_name`; TokenRefused for a bad name or too many."""
    name = clean_name(raw_name)
    live = db.session.scalar(
        select(db.func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    )
    if live >= TOKENS_MAX:
        raise TokenRefused(_("You have %(num)d tokens already; revoke one first.", num=TOKENS_MAX))
    secret = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(user_id=user_id, name=name, prefix=secret[:SHOWN], token_hash=digest(secret))
    db.session.add(token)
    db.session.commit()
    return Made(token, secret)


def list_tokens(user_id: int) -> list[ApiToken]:
    """The account's tokens, live first, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def revoke(user_id: int, token_id: int) -> bool:
    """Revoke one of the account's tokens; False when it has no such token (someone
    else's included). Revoking twice is fine."""
    if token_id > ID_MAX:
        return False
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    if token is None:
        return False
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    db.session.commit()
    return True


def revoke_all(user_id: int) -> int:
    """Revoke every live token of the account (the caller commits); how many."""
    return db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def authenticate(secret: str, now: datetime | None = None) -> Caller | None:
    """The caller a bearer token names; None for an unknown, revoked or malformed one, or
    one whose account is deleted. Notes when it was last used (at most once a minute)."""
    wanted = digest(secret)
    row = db.session.execute(_BY_HASH, {"token_hash": wanted}).first()
    if row is None or not hmac.compare_digest(row[1], wanted) or row[2] is not None:
        db.session.rollback()
        return None
    now = now or utcnow()
    last_used = row[3]
    if last_used is None or now - last_used >= LAST_USED_EVERY:
        db.session.execute(update(ApiToken).where(ApiToken.id == row[0]).values(last_used_at=now))
        db.session.commit()
    user = SignedIn(*row[4:])
    return Caller(row[0], user)
