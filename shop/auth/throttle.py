"""Failed logins: limits a stranger cannot turn into a lock-out of the owner.

OWASP's "device cookies": a browser that signed in to an account gets a signed cookie
naming that account (`device`, sent to /login only). Failed logins from such a browser
count against its own budget (LOGIN_DEVICE_RATE_LIMIT) and nothing else. Every other
client (another browser, another address) shares the account's budget for strangers
(LOGIN_ACCOUNT_RATE_LIMIT, 10 a minute, and the slower ceiling LOGIN_ACCOUNT_CEILING, 100
a day, which bounds guessing) and its address's (LOGIN_IP_RATE_LIMIT). A stranger's
failures therefore lock out strangers, never the owner's own browser. When the strangers'
budget of an existing account runs out, its owner gets one email an hour saying so.

The current password asked again on the account page (to change it, or to delete the
account) has the same budgets, per account and per session: a stolen session cookie
cannot guess the password. When one runs out, every session of the account ends and the
owner is told.
"""

import hmac
import secrets
from datetime import timedelta

from flask import Response, current_app, g, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from .. import security
from ..extensions import limiter
from ..models import normalise_email
from ..urls import external_url
from . import services

DEVICE_COOKIE = "device"
DEVICE_SALT = "shop.auth.device-cookie"
#: A device cookie is no credential (the password is still needed): it may last a year.
DEVICE_MAX_AGE = timedelta(days=365)


def _serializer() -> URLSafeSerializer:
    """Signs device cookies with SECRET_KEY, apart from every other signed value."""
    return URLSafeSerializer(current_app.secret_key, salt=DEVICE_SALT)


def _account() -> str:
    """The account the login form names, as a digest (cookies never hold the email)."""
    return security.digest(normalise_email(request.form.get("email", "")))


def device_nonce() -> str | None:
    """This browser's device nonce if its cookie is valid for the account the form names."""
    if "device_nonce" not in g:
        g.device_nonce = None
        try:
            data = _serializer().loads(request.cookies.get(DEVICE_COOKIE, ""))
        except BadSignature:
            data = None
        valid = isinstance(data, dict) and isinstance(data.get("n"), str)
        if valid and hmac.compare_digest(str(data.get("a", "")), _account()):
            g.device_nonce = data["n"]
    return g.device_nonce


def from_known_device() -> bool:
    """Whether this login attempt comes from a browser that signed in to the account before."""
    return device_nonce() is not None


def from_stranger() -> bool:
    """Whether this attempt comes from any other client."""
    return not from_known_device()


def device_key() -> str:
    """The known browser, for its own budget."""
    return "device:" + (device_nonce() or "none")


def remember_device(response: Response, email: str) -> None:
    """After a successful login: this browser is known to the account from now on (keeping
    its nonce, and so its budget, if it was known already)."""
    nonce = device_nonce() or secrets.token_urlsafe(16)
    value = _serializer().dumps({"a": security.digest(normalise_email(email)), "n": nonce})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(DEVICE_MAX_AGE.total_seconds()),
        path=url_for("auth.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",  # only ever needed by our own login form
    )


def warn_owner(_limit) -> None:
    """The strangers' budget of an account ran out: tell its owner (once an hour)."""
    services.warn_of_failed_logins(
        request.form.get("email", ""), external_url("auth.forgot_password")
    )


def _failure_limit(setting: str, key_func, message: str, **options):
    """A limit on refused logins only (successful ones cost nothing)."""
    return limiter.limit(
        security.setting(setting),
        key_func=key_func,
        methods=["POST"],
        deduct_when=security.refused,
        error_message=message,
        **options,
    )


_stranger_account_limit = _failure_limit(
    "LOGIN_ACCOUNT_RATE_LIMIT",
    security.email_key,
    _l("Too many failed logins for this account."),
    exempt_when=from_known_device,
    on_breach=warn_owner,
)
_stranger_account_ceiling = _failure_limit(
    "LOGIN_ACCOUNT_CEILING",
    security.email_key,
    _l("Too many failed logins for this account today."),
    exempt_when=from_known_device,
    on_breach=warn_owner,
)
_stranger_ip_limit = _failure_limit(
    "LOGIN_IP_RATE_LIMIT",
    security.ip_key,
    _l("Too many failed logins from your network."),
    exempt_when=from_known_device,
)
_device_limit = _failure_limit(
    "LOGIN_DEVICE_RATE_LIMIT",
    device_key,
    _l("Too many failed logins from this browser."),
    exempt_when=from_stranger,
)


def login_limits(view):
    """Throttle failed logins: strangers per account and per address, known browsers each
    on their own."""
    return _stranger_ip_limit(
        _stranger_account_ceiling(_stranger_account_limit(_device_limit(view)))
    )


def guessed_wrong() -> None:
    """The view found the current password wrong: this request counts against the budgets."""
    g.wrong_current_password = True


def _counts_as_a_guess(_response: Response) -> bool:
    """Only a wrong current password counts (not a new password the rule refuses)."""
    return g.get("wrong_current_password", False)


def session_key() -> str:
    """This login session (user, token and login time, as Flask-Login keeps it)."""
    return "session:" + security.digest(str(session.get("_user_id", "")))


def end_guessing_session(_limit) -> None:
    """Out of guesses: every session of the account ends, this one first; the owner is told."""
    if current_user.is_authenticated:
        services.stop_password_guesses(current_user.id, external_url("auth.forgot_password"))
    session.clear()
    logout_user()


def _guess_limit(setting: str, key_func, message: str):
    """A budget of wrong current passwords, shared by every form that asks for it."""
    return limiter.shared_limit(
        security.setting(setting),
        scope="current-password:" + setting,
        key_func=key_func,
        methods=["POST"],
        deduct_when=_counts_as_a_guess,
        on_breach=end_guessing_session,
        error_message=_l("%(reason)s You are signed out; log in again.", reason=message),
    )


_guess_account_limit = _guess_limit(
    "LOGIN_ACCOUNT_RATE_LIMIT", security.user_key, _l("Too many wrong passwords for this account.")
)
_guess_account_ceiling = _guess_limit(
    "LOGIN_ACCOUNT_CEILING", security.user_key, _l("Too many wrong passwords today.")
)
_guess_session_limit = _guess_limit(
    "LOGIN_DEVICE_RATE_LIMIT", session_key, _l("Too many wrong passwords from this browser.")
)


def current_password_limits(view):
    """Throttle wrong current passwords per account and per session (stack it under
    `login_required`); the view calls `guessed_wrong()` on each one."""
    return _guess_account_ceiling(_guess_account_limit(_guess_session_limit(view)))


_reset_email_limit = limiter.limit(
    security.setting("PASSWORD_RESET_EMAIL_RATE_LIMIT"),
    key_func=security.email_key,
    methods=["POST"],
    error_message=_l("Too many reset requests for this email address."),
)
_reset_ip_limit = limiter.limit(
    security.setting("PASSWORD_RESET_IP_RATE_LIMIT"),
    key_func=security.ip_key,
    methods=["POST"],
    error_message=_l("Too many reset requests from your network."),
)


def reset_request_limits(view):
    """Throttle requests for reset links per email address and per client address."""
    return _reset_ip_limit(_reset_email_limit(view))


def reset_link_limits(view):
    """Throttle uses of reset links per client address (the form names no email)."""
    return _reset_ip_limit(view)
