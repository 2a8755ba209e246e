"""`/register`, `/login`, `POST /logout`, and password reset by email (`/reset-password`)."""

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import currencies, security
from ..urls import external_url, safe_next
from . import resets, services, sessions, throttle
from .forms import ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm

bp = Blueprint("auth", __name__)


def _start_session(user, remember: bool) -> None:
    """Log `user` in on a fresh session, so a session fixed before login is worthless; the
    currency the visitor chose carries over, and what other areas keep (a visitor's cart)."""
    kept = {
        key: session[key]
        for key in {currencies.SESSION_KEY, *services.KEPT_AT_LOGIN}
        if key in session
    }
    session.clear()
    session.update(kept)
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@security.register_limits
def register():
    """Create an account and sign in; errors stand next to their fields."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_user(
                form.email.data, form.password.data, current_app.config["PASSWORD_HASH_METHOD"]
            )
        except services.EmailTaken:
            form.email.errors.append("An account with this email already exists; log in instead.")
        else:
            _start_session(user, remember=False)
            flash(_("Welcome! Your account is ready."), "success")
            response = redirect(safe_next(request.args.get("next")))
            throttle.remember_device(response, user.email)  # the owner's browser from now on
            return response
    status = 422 if form.errors else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@throttle.login_limits
def login():
    """Sign in; unknown email and wrong password get the same message.

    A signed-in browser that posts the form signs in again (and is marked as known to the
    account, as every login is), rather than being waved through unmarked."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(
            form.email.data, form.password.data, current_app.config["PASSWORD_HASH_METHOD"]
        )
        if user is not None:
            _start_session(user, remember=bool(form.remember.data))
            response = redirect(safe_next(request.args.get("next")))
            throttle.remember_device(response, user.email)
            return response
        form.form_errors.append("That email and password do not match an account.")
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out, ending every session of this account, and return to the catalogue."""
    # A new session token: this cookie, copies of it and remember-me cookies stop working.
    services.end_sessions(sessions.account_of(current_user))
    session.clear()
    # After the clear: logout_user leaves the mark that makes Flask-Login delete the
    # remember-me cookie, which would otherwise sign the customer straight back in.
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("catalog.index"))


@bp.route("/reset-password", methods=["GET", "POST"])
@throttle.reset_request_limits
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        resets.request_reset(
            form.email.data, lambda token: external_url("auth.reset_password", token=token)
        )
        flash(
            _(
                "If an account uses that address, a link to choose a new password is on its "
                "way; it works once, for %(minutes)d minutes.",
                minutes=resets.RESET_LINK_MINUTES,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    status = 422 if form.errors else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@throttle.reset_link_limits
def reset_password(token: str):
    """Choose a new password from a reset link; every session of the account ends."""
    user = resets.user_for_token(token)
    form = ResetPasswordForm() if user is not None else None
    if form is not None:
        form.owner_email = user.email
        if form.validate_on_submit():
            services.set_password(
                user, form.password.data, current_app.config["PASSWORD_HASH_METHOD"]
            )
            session.clear()
            flash(_("Your password is changed; log in with it."), "success")
            response = redirect(url_for("auth.login"))
            # Proof of the mailbox: this browser is the owner's now, whatever strangers did.
            throttle.remember_device(response, user.email)
            return response
    status = 404 if form is None else 422 if form.errors else 200
    response = make_response(render_template("auth/reset_password.html", form=form), status)
    # The token is in this page's url: no cache keeps it, no Referer carries it away.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
