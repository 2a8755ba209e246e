"""The account page's forms (CSRF-protected by Flask-WTF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from ..auth import passwords
from ..auth.forms import new_password_fields


def current_password_field() -> PasswordField:
    """The password the customer has now: asked again before anything sensitive."""
    return PasswordField(
        _l("Current password"),
        validators=[
            DataRequired(_l("Enter your current password.")),
            Length(max=passwords.MAX_LENGTH),
        ],
    )


class ChangePasswordForm(FlaskForm):
    """A new password, for the current one (`owner_email` set by the view)."""

    owner_email: str | None = None
    current = current_password_field()
    password, confirm = new_password_fields()


class DeleteAccountForm(FlaskForm):
    """Deleting the account, confirmed with the password."""

    current = current_password_field()
