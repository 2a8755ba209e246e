"""Password reset by email: signed, expiring, single-use links.

A link carries `{"u": user id, "f": fingerprint}` signed with SECRET_KEY (itsdangerous,
timestamped, its own salt). The fingerprint is an HMAC of the user's current password
hash, so the link stops working the moment the password changes, by this link or any
other way: it is single-use without a table of used tokens, and a link minted for one
user can never reset another. Links expire after RESET_LINK_MINUTES.
"""

import hashlib
import hmac
from collections.abc import Callable

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from . import notices
from .models import User
from .services import find_user

RESET_SALT = "shop.auth.password-reset"
RESET_LINK_MINUTES = 30


def _serializer() -> URLSafeTimedSerializer:
    """Signs reset links with SECRET_KEY, apart from every other signed value."""
    return URLSafeTimedSerializer(current_app.secret_key, salt=RESET_SALT)


def fingerprint(user: User) -> str:
    """What ties a link to the user's password as it is now (changes with the password)."""
    key = current_app.secret_key.encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def make_token(user: User) -> str:
    """A reset link's token for `user`, valid until the password changes or it expires."""
    return _serializer().dumps({"u": user.id, "f": fingerprint(user)})


def request_reset(email: str, link_for: Callable[[str], str]) -> None:
    """Email a reset link to the account with this email, if there is one (callers answer
    the same either way); `link_for(token)` is the absolute url of the reset page."""
    user = find_user(email)
    if user is None or user.deleted_at is not None:
        return
    token = make_token(user)
    token_id = hashlib.sha256(token.encode()).hexdigest()[:16]
    notices.send(notices.reset_link(user, link_for(token), token_id, RESET_LINK_MINUTES))
    db.session.commit()


def user_for_token(token: str) -> User | None:
    """The user a reset token is for, if it is genuine, unexpired and not used yet."""
    try:
        data = _serializer().loads(token, max_age=RESET_LINK_MINUTES * 60)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or user.deleted_at is not None:
        return None
    return user if hmac.compare_digest(str(data.get("f", "")), fingerprint(user)) else None
