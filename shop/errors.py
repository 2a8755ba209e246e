"""Application-wide error answers: a toast fragment for htmx, a page otherwise."""

from urllib.parse import urlsplit

from flask import Flask, current_app, flash, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from . import problems
from .extensions import db, login_manager
from .htmx import hx_redirect, is_htmx

MESSAGES = {
    400: _l("That request was not understood."),
    401: _l("Please log in first."),
    403: _l("You are not allowed to do that."),
    404: _l("That page or item does not exist."),
    405: _l("That action is not allowed here."),
    413: _l("That request is too large."),
    422: _l("Some of that input is not valid."),
    429: _l("Too many attempts; please wait a moment and try again."),
    500: _l("Something went wrong on our side; nothing was charged. Please try again."),
    503: _l("The shop is briefly unavailable; please try again in a moment."),
}


#: Seconds a client is asked to wait after a 503 (the database was down or busy).
RETRY_AFTER = "5"


def error_response(status: int, message: str | None = None, headers=None):
    """Render `message` as a toast (htmx, retargeted to #toasts) or a full error page; under
    `/api/` as problem+json."""
    message = str(message or MESSAGES.get(status, _("Something went wrong.")))
    if problems.under_api():
        return problems.problem(status, message, headers=headers)
    if is_htmx():
        body = render_template("errors/toast.html", message=message, status=status)
        response = make_response(body, status)
        response.headers["HX-Retarget"] = "#toasts"
        response.headers["HX-Reswap"] = "beforeend"
    else:
        body = render_template("errors/error.html", message=message, status=status)
        response = make_response(body, status)
    response.vary.add("HX-Request")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


#: Forms a visitor sends signed out: a stale token there is just an old page.
SIGNED_OUT_FORMS = frozenset(
    {"auth.login", "auth.register", "auth.forgot_password", "auth.reset_password"}
)
SIGNED_OUT = _l("You were signed out; log in again.")


def _page_left() -> str:
    """The same-site page the form was sent from (its path and query), else the home page."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or not referrer.path.startswith("/"):
        return "/"
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def _session_ended() -> bool:
    """A shop form that carried a token (so its page was rendered in a session) while nobody
    is signed in now: the session behind it ended. A form with no token at all is not ours."""
    carried = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    return bool(
        carried
        and not current_user.is_authenticated
        and request.endpoint not in SIGNED_OUT_FORMS
        and request.blueprint != "emulator"
    )


def signed_out():
    """The session behind a form has ended: log in again, then back to the page (the cart
    lives on the account, so nothing is lost)."""
    flash(str(SIGNED_OUT), "info")
    return hx_redirect(url_for("auth.login", next=_page_left()), status=401)


def register(app: Flask) -> None:
    """Install the handlers; HTTP errors keep their status and headers."""

    @app.errorhandler(problems.Problem)
    def api_problem(error: problems.Problem):
        """A refusal raised by the JSON API, as problem+json."""
        return error.response()

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        """A missing or stale CSRF token: 400 with a way forward; or, when the session behind
        the form has ended (a logout in another tab, cookies that expired), the login form,
        saying so and coming back to the page after."""
        if _session_ended():
            return signed_out()
        return error_response(
            400,
            _("Your form expired or was not sent from this site; reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """Any abort(): keep the status and headers such as Allow or Retry-After."""
        headers = {
            k: v
            for k, v in error.get_headers()
            if k.lower() not in {"content-type", "content-length"}
        }
        # abort(404, "...") carries our own words; werkzeug's stock text is not for customers.
        custom = error.description != type(error).description
        message = error.description if custom else None
        return error_response(error.code or 500, message, headers)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(error: Exception):
        """The database is down, dropped us, or has no connection free within DB_POOL_TIMEOUT:
        a clear 503 with Retry-After, one log line, never a stack trace."""
        db.session.rollback()
        current_app.logger.error("database unavailable: %s", error.__class__.__name__)
        # Render as for a visitor: the page header would load the signed-in user and their
        # cart badge from the database that just failed, and failing again in here would
        # turn this 503 into a bare 500. The session cookie is left alone: nobody is logged out.
        login_manager._update_request_context_with_user()
        return error_response(ServiceUnavailable.code, headers={"Retry-After": RETRY_AFTER})

    @app.errorhandler(InternalServerError)
    def internal_error(error: InternalServerError):
        """An unexpected failure: log it, show a calm message."""
        return error_response(500)
