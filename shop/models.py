"""What every area's tables share: UTC times, timestamps, the id range, the email spelling.

Each area keeps its tables in its own `models.py` (auth, catalog, cart, orders, payments),
on the one metadata of `extensions.db`, with one migration history (`migrations/`).
Money is integer minor units everywhere.
"""

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column

#: Ids are 32-bit integers in the database: a larger one cannot exist, and looking it up
#: would make PostgreSQL raise rather than find nothing.
ID_MAX = 2**31 - 1


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (called per row, never at import)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Store naive UTC, hand back aware UTC, so SQLite and PostgreSQL compare alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Convert an aware datetime to naive UTC before it reaches the database."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        """Mark a stored naive UTC value as UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


class TimestampMixin:
    """`created_at` and `updated_at`, filled by the ORM at write time."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def one_of(column: str, values: type[StrEnum]) -> str:
    """A CHECK condition allowing exactly the enum's values (spelled out once, in the enum)."""
    return f"{column} IN ({', '.join(repr(str(value)) for value in values)})"


def normalise_email(email: str) -> str:
    """The one spelling of an address that lookups, unique indexes and rate limits use."""
    return email.strip().lower()
