"""The shop's record of Stripe events it has processed (one row per event id), and the
secrets an installation generates for itself."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import UTCDateTime, utcnow


class StripeEvent(db.Model):
    """A webhook event that was verified and handled; the primary key makes it once only."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<StripeEvent {self.id} {self.type}>"


class InstallationSecret(db.Model):
    """A secret this installation generated for itself once, shared by every worker and dyno
    through the database (the webhook secret of a public demo on the emulator)."""

    __tablename__ = "installation_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<InstallationSecret {self.name}>"
