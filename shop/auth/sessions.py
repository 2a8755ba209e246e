"""Login sessions that can be ended, and that end by themselves after LOGIN_MAX_AGE.

What Flask-Login keeps in the session cookie and in the remember-me cookie (its
"alternative id") is `<user id>.<session token>.<login time>`. Both cookies are signed
with SECRET_KEY, so the value cannot be forged; it names the user (one primary-key
lookup, as before), proves the login is still valid (the user's session token changes at
logout, at "log out everywhere" and with a new password, which ends every other copy),
and says when the login began (none outlives LOGIN_MAX_AGE, whatever the browser keeps).
Since the token travels signed in the session, a later cache of tokens by user id could
check it without the database at all.

Session protection is "strong" on an identifier of the browser alone: a session cookie
replayed from another browser is emptied (and its remember-me cookie deleted), while a
customer whose address changes (mobile networks, VPNs, IPv6 privacy addresses) stays
signed in. Version numbers are left out of the identifier, so a browser update does not
sign anyone out either.
"""

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from flask import g, has_request_context, request
from flask_login import LoginManager, UserMixin
from sqlalchemy import bindparam, select

from ..config import LOGIN_MAX_AGE
from ..extensions import db, read
from ..models import ID_MAX
from .models import User

#: Seconds of clock difference tolerated between workers for a login "in the future".
CLOCK_SKEW = 60
_DIGITS = re.compile(r"\d+")
#: What every signed-in request reads of its user (built once; see `load_user`).
_USER_ROW = select(
    User.id, User.email, User.is_admin, User.session_token, User.currency, User.language
).where(User.id == bindparam("user_id"), User.deleted_at.is_(None))


#: The same, locking the user's row until the request's transaction ends (PostgreSQL's FOR
#: NO KEY UPDATE; SQLite, with one writer at a time, needs no lock and gets none).
_LOCKED_USER_ROW = _USER_ROW.with_for_update(key_share=True)
#: Endpoints whose signed-in user is read with the row locked (`lock_user_row_on`).
_LOCKING_ENDPOINTS: set[str] = set()
#: Where a request notes the transaction its user's row was locked in.
_LOCKED_IN = "_shop_user_row_locked_in"


def lock_user_row_on(endpoint: str) -> None:
    """Read the signed-in user of `endpoint` with their row locked: a view that would lock
    it anyway (the cart's add serialises a customer's adds on it) saves the round trip."""
    _LOCKING_ENDPOINTS.add(endpoint)


def user_row_locked(user_id: int) -> bool:
    """Whether `user_id`'s row is locked in the session's transaction now: read locked by
    this request (`lock_user_row_on`) and that transaction not ended since."""
    if not has_request_context():
        return False
    locked = g.get(_LOCKED_IN)
    return locked is not None and locked == (user_id, db.session().get_transaction())


@dataclass(frozen=True)
class SignedIn(UserMixin):
    """`current_user` of a signed-in request: who it is, read in one small Core statement.

    Every signed-in request needs this much (the header, ownership checks, ids), so it is
    read without building an ORM object, which would cost more than the query. The few
    views that read or change the account itself (password, sessions, data, deletion)
    take the `User` row with `account_of`.
    """

    id: int
    email: str
    is_admin: bool
    session_token: str
    #: The currency the customer shops in (None: not chosen yet).
    currency: str | None = None
    #: The language the customer reads the shop in (None: not chosen yet).
    language: str | None = None


def account_of(user: "SignedIn | User") -> User:
    """The ORM row of a signed-in user (loads it once per request; a `User` as it is)."""
    if isinstance(user, User):
        return user
    found = db.session.get(User, user.id)
    if found is None:  # deleted since this request began
        raise LookupError(f"user {user.id} is gone")
    return found


def parse_login_id(value: str) -> tuple[int, str, int] | None:
    """(user id, token, login time) from `User.login_id`; None for anything else (old ids too)."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit() or not parts[1]:
        return None
    user_id = int(parts[0])
    return (user_id, parts[1], int(parts[2])) if user_id <= ID_MAX else None


def load_user(value: str) -> SignedIn | None:
    """The user a login id stands for, if that login is still valid and not too old."""
    parsed = parse_login_id(value)
    if parsed is None:
        return None
    user_id, token, started = parsed
    age = time.time() - started
    if age > LOGIN_MAX_AGE.total_seconds() or age < -CLOCK_SKEW:
        return None
    locking = has_request_context() and request.endpoint in _LOCKING_ENDPOINTS
    row = read(_LOCKED_USER_ROW if locking else _USER_ROW, {"user_id": user_id}).first()
    if row is None:  # no such user, or a deleted account
        return None
    user = SignedIn(*row)
    # Constant time: the comparison must not tell how much of a guessed token was right.
    if not hmac.compare_digest(user.session_token, token):
        return None
    if locking:
        setattr(g, _LOCKED_IN, (user.id, db.session().get_transaction()))
    return user


def browser_identifier() -> str:
    """What session protection compares: the browser (user agent without version numbers)."""
    agent = _DIGITS.sub("", request.headers.get("User-Agent", ""))
    return hashlib.sha512(agent.encode("utf-8", "surrogatepass")).hexdigest()


def configure(manager: LoginManager) -> None:
    """Load users by login id; strong session protection on the browser identifier."""
    manager.session_protection = "strong"
    # Flask-Login's default identifier includes the client address; see the module docstring.
    manager._session_identifier_generator = browser_identifier
    manager.user_loader(load_user)
