"""The shop's record of Stripe events it has processed (one row per event id), of
webhook deliveries whose handling failed, and the secrets an installation generates for
itself."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import UTCDateTime, utcnow


class StripeEvent(db.Model):
    """A webhook event that was verified and handled; the primary key makes it once only."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        # The health panel and /metrics: webhook deliveries of the last day, the last one.
        Index("ix_stripe_events_via_received_at", "via", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: How it arrived: "webhook" (Stripe delivered it) or "reconcile" (fetched afterwards),
    #: so events reconcile caught up on never pass for a working webhook endpoint.
    via: Mapped[str] = mapped_column(String(16), default="webhook", server_default="webhook")

    def __repr__(self) -> str:
        return f"<StripeEvent {self.id} {self.type} via {self.via}>"


class WebhookFailure(db.Model):
    """A webhook delivery whose handlers raised: its work rolled back, Stripe was told 500
    and will deliver it again. Kept so the admin can see failures (stripe_events holds only
    what succeeded)."""

    __tablename__ = "webhook_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(255))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<WebhookFailure {self.event_id} {self.event_type}>"


class InstallationSecret(db.Model):
    """A secret this installation generated for itself once, shared by every worker and dyno
    through the database (the webhook secret of a public demo on the emulator)."""

    __tablename__ = "installation_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<InstallationSecret {self.name}>"
