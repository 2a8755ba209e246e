"""Accounts: customers and admins."""

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import TimestampMixin, normalise_email


class User(UserMixin, TimestampMixin, db.Model):
    """A customer or an admin; the email is stored normalised (trimmed, lower case)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)

    @staticmethod
    def normalise_email(email: str) -> str:
        """The one spelling of an address that lookups and the unique index use."""
        return normalise_email(email)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
