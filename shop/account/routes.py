"""`/account`: change the password, log out everywhere, download my data, delete my account."""

import json

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from ..auth import services as auth_services
from ..auth import throttle
from ..auth.sessions import account_of
from . import services
from .forms import ChangePasswordForm, DeleteAccountForm

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(status: int = 200, **forms):
    """The account page with its forms (fresh ones unless given, e.g. with errors)."""
    change = forms.get("change") or ChangePasswordForm(formdata=None)
    delete = forms.get("delete") or DeleteAccountForm(formdata=None)
    return render_template("account/account.html", change=change, delete=delete), status


def _wrong_password(field) -> None:
    """Say the current password is not right, next to its field (a guess, counted)."""
    throttle.guessed_wrong()
    field.errors = [*field.errors, "That is not your current password."]


@bp.get("")
@login_required
def show():
    """The account page."""
    return _page()


@bp.post("/password")
@login_required
@throttle.current_password_limits
def change_password():
    """A new password; every other session ends, this one carries on."""
    form = ChangePasswordForm()
    form.owner_email = current_user.email
    if form.validate_on_submit():
        user = account_of(current_user)
        if auth_services.password_matches(user, form.current.data):
            remembered = "remember_token" in request.cookies
            auth_services.set_password(
                user, form.password.data, current_app.config["PASSWORD_HASH_METHOD"]
            )
            session.clear()
            login_user(user, remember=remembered)  # this browser, on the new session token
            flash("Your password is changed; you are signed out everywhere else.", "success")
            response = redirect(url_for("account.show"))
            throttle.remember_device(response, user.email)  # proof of the password: known
            return response
        _wrong_password(form.current)
    return _page(422, change=form)


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session of the account, this one included."""
    auth_services.end_sessions(account_of(current_user))
    session.clear()
    logout_user()
    flash("You are logged out everywhere, on every device.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/data")
@login_required
def download_data():
    """Everything the shop holds about the customer, as a JSON file."""
    body = json.dumps(services.export(account_of(current_user)), indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="northside-roastery-data.json"'},
    )


@bp.post("/delete")
@login_required
@throttle.current_password_limits
def delete():
    """Delete the account (orders kept, anonymised) after the password is given again."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        user = account_of(current_user)
        if auth_services.password_matches(user, form.current.data):
            services.delete_account(user)
            session.clear()
            logout_user()
            flash("Your account is deleted. Thank you for shopping with us.", "info")
            return redirect(url_for("catalog.index"))
        _wrong_password(form.current)
    return _page(422, delete=form)
