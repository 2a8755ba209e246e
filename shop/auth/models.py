"""Accounts: customers and admins."""

import secrets
import time
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime, normalise_email, utcnow

#: Bytes of randomness in a session token (as url-safe base64: 22 characters).
SESSION_TOKEN_BYTES = 16


def new_session_token() -> str:
    """A fresh random session token (made per row, never at import)."""
    return secrets.token_urlsafe(SESSION_TOKEN_BYTES)


#: How `users.stripe_customer_id` marks a Customer Stripe no longer has.
GONE_CUSTOMER = "gone:"


def live_customer(stored: str | None) -> str | None:
    """The Stripe Customer id to use, from the stored value (None: none, or gone)."""
    return None if not stored or stored.startswith(GONE_CUSTOMER) else stored


class User(UserMixin, TimestampMixin, db.Model):
    """A customer or an admin; the email is stored normalised (trimmed, lower case).

    `session_token` is part of every login session and remember-me cookie of this user
    (`shop.auth.sessions`): replacing it ends them all (logout, log out everywhere, a new
    password). A deleted account keeps its row, emptied, for the orders that refer to it.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The currency the customer shops in (lower case; None: not chosen yet).
    currency: Mapped[str | None] = mapped_column(String(3))
    #: The language the customer reads the shop and their emails in (None: not chosen).
    language: Mapped[str | None] = mapped_column(String(5))
    #: The account's Customer at Stripe (its saved cards), made on the first checkout;
    #: `gone:<id>` once Stripe said it has no such Customer (the next checkout makes one).
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))

    @staticmethod
    def normalise_email(email: str) -> str:
        """The one spelling of an address that lookups and the unique index use."""
        return normalise_email(email)

    def login_id(self, at: float | None = None) -> str:
        """The id a login begun at `at` (now) carries: `<id>.<session token>.<login time>`,
        read back by `shop.auth.sessions.parse_login_id`."""
        return f"{self.id}.{self.session_token}.{int(time.time() if at is None else at)}"

    def get_id(self) -> str:
        """What Flask-Login stores for a new login: the login id (see `shop.auth.sessions`)."""
        return self.login_id()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class ApiToken(db.Model):
    """A personal access token for the JSON API: only its SHA-256 is kept (the token is
    shown once, when made); `prefix` names it in lists and logs without revealing it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    #: The first characters of the token (`nsr_` and 6 more), shown in the account's list.
    prefix: Mapped[str] = mapped_column(String(16))
    #: Hex SHA-256 of the whole token: 32 random bytes need no slow hash.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
