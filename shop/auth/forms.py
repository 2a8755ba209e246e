"""Registration and login forms (CSRF-protected by Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from . import passwords


def acceptable_password(form, field) -> None:
    """The field holds a password the shop accepts as a new one (`passwords.problem`), not
    built from the form's email if it has one."""
    email = getattr(form, "email", None)
    problem = passwords.problem(field.data or "", [email.data] if email and email.data else [])
    if problem:
        raise ValidationError(problem)


def _strip(value):
    """Forgive spaces pasted around an email address."""
    return value.strip() if isinstance(value, str) else value


class RegisterForm(FlaskForm):
    """A new customer: email, password and its confirmation."""

    email = EmailField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254, message="That email address is too long."),
            Email("Enter a valid email address, like name@example.com."),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Choose a password."),
            acceptable_password,
        ],
    )
    confirm = PasswordField(
        "Confirm password",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords do not match."),
        ],
    )


class LoginForm(FlaskForm):
    """An existing customer: email, password, and whether to stay signed in."""

    email = EmailField(
        "Email",
        filters=[_strip],
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=passwords.MAX_LENGTH)],
    )
    remember = BooleanField("Remember me")
