"""`/account`: change the password, log out everywhere, saved cards, download my data,
delete my account."""

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..auth import services as auth_services
from ..auth import throttle, tokens
from ..auth.sessions import account_of
from . import services
from .forms import ChangePasswordForm, DeleteAccountForm

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(status: int = 200, **forms):
    """The account page with its forms (fresh ones unless given, e.g. with errors) and the
    account's API tokens (`new_token`, `token_error`, `token_message` say what changed)."""
    change = forms.pop("change", None) or ChangePasswordForm(formdata=None)
    delete = forms.pop("delete", None) or DeleteAccountForm(formdata=None)
    listed = tokens.list_tokens(current_user.id)
    page = render_template("account/account.html", change=change, delete=delete,
                           tokens=listed, **forms)  # fmt: skip
    return page, status


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
            flash(_("Your password is changed; you are signed out everywhere else."), "success")
            response = redirect(url_for("account.show"))
            throttle.remember_device(response, user.email)  # proof of the password: known
            return response
        _wrong_password(form.current)
    return _page(422, change=form)


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session of the account, this one included, and revoke its API tokens."""
    auth_services.end_everywhere(account_of(current_user))
    session.clear()
    logout_user()
    flash(_("You are logged out everywhere, on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/tokens")
@login_required
def make_token():
    """A new API token named `name`, shown once on the page that answers (never stored
    in clear, nor put in the session)."""
    try:
        made = tokens.make_token(current_user.id, request.form.get("name"))
    except tokens.TokenRefused as refused:
        return _page(422, token_error=str(refused))
    return _page(201, new_token=made, token_message="Token made.", token_message_kind="success")


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of the account's tokens (anyone else's is a 404)."""
    if not tokens.revoke(current_user.id, token_id):
        abort(404)
    return _page(token_message="Token revoked: requests with it now get 401.",
                 token_message_kind="success")  # fmt: skip


@bp.get("/data")
@login_required
def download_data():
    """Everything the shop holds about the customer, as a JSON file."""
    try:
        data = services.export(account_of(current_user))
    except services.CardsUnavailable:
        flash(_("Your data cannot be gathered right now (Stripe keeps your saved cards and "
              "could not be reached); try again in a moment."), "error")  # fmt: skip
        return _page(503)
    body = json.dumps(data, indent=2, ensure_ascii=False)
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
            try:
                services.delete_account(user)
            except services.CardsUnavailable:
                flash(_("Stripe could not be reached to delete your saved cards, so your "
                      "account is not deleted yet. Try again in a moment."), "error")  # fmt: skip
                return _page(503)
            session.clear()
            logout_user()
            flash(_("Your account is deleted. Thank you for shopping with us."), "info")
            return redirect(url_for("catalog.index"))
        _wrong_password(form.current)
    return _page(422, delete=form)


@bp.get("/payment-methods")
@login_required
def payment_methods():
    """The cards saved at checkout: brand, last 4, expiry, each with Remove."""
    return _cards_page()


def _cards_page(message: str | None = None, kind: str = "success", status: int = 200):
    """The saved cards page (Stripe asked for them; 503 if it cannot be reached)."""
    try:
        cards = services.saved_cards(account_of(current_user))
    except services.CardsUnavailable:
        cards, message, kind, status = None, "Your saved cards cannot be shown right now; try "\
            "again in a moment.", "error", 503  # fmt: skip
    page = render_template("account/payment_methods.html", cards=cards, message=message,
                           message_kind=kind)  # fmt: skip
    return page, status


@bp.post("/payment-methods/<pm_id>/remove")
@login_required
def remove_payment_method(pm_id: str):
    """Detach one of the customer's own saved cards at Stripe; anyone else's is a 404."""
    try:
        removed = services.remove_card(account_of(current_user), pm_id)
    except services.CardsUnavailable:
        return _cards_page(_("Stripe could not be reached; the card is still saved. Try again."),
                           "error", 503)  # fmt: skip
    if not removed:
        abort(404)
    flash(_("The card is removed: it is no longer saved for your checkouts."), "success")
    return redirect(url_for(".payment_methods"), 303)
