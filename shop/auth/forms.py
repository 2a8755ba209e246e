"""Registration and login forms (CSRF-protected by Flask-WTF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from . import passwords


def acceptable_password(form, field) -> None:
    """The field holds a password the shop accepts as a new one (`passwords.problem`), not
    built from the owner's email (the form's `email` field, or its `owner_email`)."""
    email = getattr(form, "email", None)
    owner = getattr(form, "owner_email", None) or (email.data if email else None)
    problem = passwords.problem(field.data or "", [owner] if owner else [])
    if problem:
        raise ValidationError(problem)


def new_password_fields() -> tuple[PasswordField, PasswordField]:
    """A new password and its confirmation, checked by the one password rule."""
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a new password.")), acceptable_password],
    )
    confirm = PasswordField(
        _l("Confirm new password"),
        validators=[
            DataRequired(_l("Type the new password again.")),
            EqualTo("password", _l("The two passwords do not match.")),
        ],
    )
    return password, confirm


def _strip(value):
    """Forgive spaces pasted around an email address."""
    return value.strip() if isinstance(value, str) else value


def email_field() -> EmailField:
    """An email address someone types in, checked for shape."""
    return EmailField(
        _l("Email"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("That email address is too long.")),
            Email(_l("Enter a valid email address, like name@example.com.")),
        ],
    )


class RegisterForm(FlaskForm):
    """A new customer: email, password and its confirmation."""

    email = email_field()
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Choose a password.")),
            acceptable_password,
        ],
    )
    confirm = PasswordField(
        _l("Confirm password"),
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("password", _l("The two passwords do not match.")),
        ],
    )


class LoginForm(FlaskForm):
    """An existing customer: email, password, and whether to stay signed in."""

    email = EmailField(
        _l("Email"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=passwords.MAX_LENGTH)],
    )
    remember = BooleanField(_l("Remember me"))


class ForgotPasswordForm(FlaskForm):
    """Ask for a reset link: just the email address."""

    email = email_field()


class ResetPasswordForm(FlaskForm):
    """Choose a new password from a reset link (`owner_email` set by the view)."""

    owner_email: str | None = None
    password, confirm = new_password_fields()
