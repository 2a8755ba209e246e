"""Abuse limits, security headers and hostile-input guards for every route.

The limits are Flask-Limiter decorators, ready to stack under a route decorator (the
login limits, which know about accounts and devices, live in `shop.auth.throttle`):

    @bp.post("/register")
    @security.register_limits
    def register(): ...

    @bp.post("/checkout")
    @login_required
    @security.checkout_limit          # per signed-in user
    def checkout(): ...

    security.admin_limit(bp)          # every POST of a blueprint, per signed-in user

Counters live in memory (per process) unless `RATELIMIT_STORAGE_URI` points at Redis,
which every gunicorn worker then shares.
"""

import functools
import hashlib
import math
import time

from flask import Flask, Response, abort, current_app, g, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from limits import parse_many
from limits.strategies import FixedWindowRateLimiter

from . import problems
from .errors import error_response
from .extensions import limiter
from .models import ID_MAX, normalise_email

#: Sent on every response. `'self'` covers the emulator's hosted checkout page (same host);
#: `form-action` also governs the redirect a form POST answers with, so Stripe's host is
#: allowed there for the no-JavaScript checkout form.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "form-action": "'self' https://checkout.stripe.com",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "; ".join(f"{k} {v}" for k, v in CONTENT_SECURITY_POLICY.items()),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), usb=()",
}


def init_app(app: Flask) -> None:
    """Bind the limiter and install the guards, the 429 answer and the headers."""
    limiter.init_app(app)
    limiter.request_filter(reads_are_unlimited)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.before_request(reject_hostile_input)
    app.before_request(refuse_json_on_forms)
    app.after_request(add_security_headers)
    app.after_request(no_store_when_signed_in)
    app.register_error_handler(RateLimitExceeded, too_many_requests)


#: Signed CSRF tokens kept per app, by the session's raw token (see `csrf_token`).
SIGNED_TOKENS = "shop.csrf_tokens"
SIGNED_TOKENS_MAX = 10_000
#: Where Flask-WTF keeps the raw token in the session and the signed one in `g`.
CSRF_FIELD = "csrf_token"


def csrf_token() -> str:
    """Flask-WTF's `generate_csrf`, signing each session's token once per process.

    Every page carries the token; signing it costs a serializer and an HMAC per request.
    Tokens carry no expiry here (WTF_CSRF_TIME_LIMIT is None: they last as long as the
    session), so the signed form of a raw token can be reused as it is. Keyed by the
    secret raw token itself: no session ever gets another's."""
    if CSRF_FIELD in g:
        return g.get(CSRF_FIELD)
    if current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf()  # a token with an expiry must be signed afresh
    raw = session.get(CSRF_FIELD)
    held = current_app.extensions.setdefault(SIGNED_TOKENS, {})
    if isinstance(raw, str) and raw in held:
        setattr(g, CSRF_FIELD, held[raw])
        return held[raw]
    token = generate_csrf()
    if len(held) >= SIGNED_TOKENS_MAX:
        held.pop(next(iter(held)))  # the oldest: it is signed again if it comes back
    held[session[CSRF_FIELD]] = token
    return token


# --- keys: who a limit counts --------------------------------------------------------------


def client_ip() -> str:
    """The client's address (ProxyFix makes it the real one behind the PaaS router)."""
    return request.remote_addr or "unknown"


def digest(value: str) -> str:
    """A short stable hash, so counters never store an email address or grow with input."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def email_key() -> str:
    """The account a login or registration form names, however the email was typed."""
    email = request.form.get("email", "")
    return "email:" + digest(normalise_email(email))


def ip_key() -> str:
    """The client address, for limits per IP."""
    return "ip:" + client_ip()


def user_key() -> str:
    """The signed-in user (by id); visitors fall back to their address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return ip_key()


#: Methods no limit of the shop counts (tests/security/test_rate_limits.py checks that
#: every declared limit counts POSTs only).
UNLIMITED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def reads_are_unlimited() -> bool:
    """Every limit here counts POSTs (forms, checkout, admin actions): a GET skips the
    limiter's per-request work (resolving and evaluating limits, ~40 us) altogether."""
    return request.method in UNLIMITED_METHODS


def setting(name: str):
    """A limit read from the app's config at request time (so tests and env can change it)."""
    return lambda: current_app.config[name]


def refused(response: Response) -> bool:
    """Only refused forms (422) count against a failure limit; a success costs nothing."""
    return response.status_code == 422


# --- the limits, ready to decorate views ---------------------------------------------------

_register_ip_limit = limiter.limit(
    setting("REGISTER_IP_RATE_LIMIT"),
    key_func=ip_key,
    methods=["POST"],
    error_message=_l("Too many registrations from your network."),
)
_register_email_limit = limiter.limit(
    setting("REGISTER_EMAIL_RATE_LIMIT"),
    key_func=email_key,
    methods=["POST"],
    error_message=_l("Too many registration attempts for this email address."),
)

#: Per signed-in user; stack it under `login_required` on `POST /checkout`.
checkout_limit = limiter.limit(
    setting("CHECKOUT_RATE_LIMIT"),
    key_func=user_key,
    error_message=_l("Too many checkout attempts."),
)


#: Per signed-in admin, on every POST of the admin area: decorates its blueprint, so no
#: admin action can be left out.
admin_limit = limiter.limit(
    setting("ADMIN_RATE_LIMIT"),
    key_func=user_key,
    methods=["POST"],
    error_message=_l("Too many admin actions."),
)


def register_limits(view):
    """Throttle registration attempts per IP and per email address."""
    return _register_ip_limit(_register_email_limit(view))


# --- answers -------------------------------------------------------------------------------


def retry_after_seconds() -> int:
    """Whole seconds until the breached limit lets the next attempt through."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    try:
        return max(1, math.ceil(breached.window.reset_time - time.time()))
    except Exception:  # the counter store went away mid-request; a minute is a fair guess
        current_app.logger.warning("rate limit: cannot read the window", exc_info=True)
        return 60


def too_many_requests(error: RateLimitExceeded):
    """429 in words a customer understands, with `Retry-After` in seconds."""
    seconds = retry_after_seconds()
    reason = error.limit.error_message if error.limit.error_message else _("Too many attempts.")
    wait = _("Please wait %(num)d seconds and try again.", num=seconds)
    message = f"{reason} {wait}"
    current_app.logger.info("rate limit %s hit on %s", error.limit.limit, request.endpoint)
    return error_response(429, message, headers={"Retry-After": str(seconds)})


_SECURITY_ITEMS = tuple(SECURITY_HEADERS.items())
_SECURITY_NAMES = frozenset(name.lower() for name in SECURITY_HEADERS)


def add_security_headers(response: Response) -> Response:
    """Every response carries the CSP and friends; a view may set its own value first.

    One look at the names already set rather than a `setdefault` per header (each scans
    the whole list): this runs on every response."""
    present = {name.lower() for name, _value in response.headers.items()}
    if present.isdisjoint(_SECURITY_NAMES):
        response.headers.extend(_SECURITY_ITEMS)
    else:
        response.headers.extend(
            [(name, value) for name, value in _SECURITY_ITEMS if name.lower() not in present]
        )
    return response


def no_store_when_signed_in(response: Response) -> Response:
    """Nothing shown to a signed-in customer (pages, fragments, downloads) is kept by the
    browser's or any shared cache: the back button after logout shows no orders."""
    if request.endpoint != "static" and session.get("_user_id"):
        response.headers["Cache-Control"] = "no-store"
    return response


def reject_hostile_input() -> None:
    """Refuse NUL bytes in any query or form field, and ids no table can hold.

    NUL is never part of a name, email or number, and PostgreSQL rejects it in text with
    an error; huge ids overflow its integer columns. Both become clean 4xx answers here,
    for every route present and future.
    """
    fields = list(request.args.items(multi=True))
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        # Cache the raw body first: routes that parse it themselves (the emulator's API)
        # still get it, and the form is parsed from the cached copy.
        request.get_data(cache=True)
        fields += list(request.form.items(multi=True))
    fields += [(name, value) for name, value in (request.view_args or {}).items()]
    if any("\x00" in key or "\x00" in str(value) for key, value in fields):
        abort(400, _("That request contains characters the shop does not accept."))
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > ID_MAX:
            abort(404)


#: Blueprints whose routes read a JSON body themselves: Stripe's webhook deliveries, the
#: JSON API and the emulator's Stripe API. Every other route takes forms.
JSON_BLUEPRINTS = frozenset({"payments", "emulator", "api"})


def refuse_json_on_forms():
    """A JSON body sent to one of the shop's forms is answered 415.

    Flask-WTF would read the fields from the JSON, while the limits key on the form's
    fields: a JSON login would be checked against the password, yet counted in a bucket of
    its own (every JSON attempt shares the empty email) and never warn the owner. Refusing
    it here, before any limit or password check, keeps one way in for each route."""
    unsafe = request.method in ("POST", "PUT", "PATCH", "DELETE")
    if (
        unsafe
        and request.is_json
        and request.blueprint not in JSON_BLUEPRINTS
        and not problems.under_api()  # no API route matched: its 404 or 405, not a 415
    ):
        return error_response(
            415,
            _(
                "This address takes a form (application/x-www-form-urlencoded or "
                "multipart/form-data), not JSON."
            ),
        )
    return None


def take_export(what: str) -> bool:
    """Count one `what` export for the signed-in user against EXPORT_RATE_LIMIT; False when
    the limit is spent. By hand, as a GET: every declared limit skips reads (`reads_are_
    unlimited`), and an export is the one read worth limiting (it takes every order away)."""
    limit = parse_many(current_app.config["EXPORT_RATE_LIMIT"])
    return all(limiter.limiter.hit(item, "export", what, user_key()) for item in limit)


@functools.lru_cache(maxsize=32)
def _parsed(limit: str) -> tuple:
    """A limit setting's items, parsed once per value."""
    return tuple(parse_many(limit))


def take_api(setting: str, *who: str) -> int | None:
    """Count one JSON API request against the `setting` limit (API_TOKEN_RATE_LIMIT or
    API_IP_RATE_LIMIT) for `who`: None while allowed, else whole seconds until the window
    lets the next one through. Fixed windows, as APIs usually count (one counter per window,
    cheaper than the moving windows of the forms, and the API is called far more often)."""
    if not limiter.enabled:
        return None
    storage = limiter.storage
    held = current_app.extensions.get("shop.api_windows")
    if held is None or held[0] is not storage:
        held = (storage, FixedWindowRateLimiter(storage))
        current_app.extensions["shop.api_windows"] = held
    window = held[1]
    for item in _parsed(current_app.config[setting]):
        if not window.hit(item, "api", setting, *who):
            reset = window.get_window_stats(item, "api", setting, *who).reset_time
            return max(1, math.ceil(reset - time.time()))
    return None
