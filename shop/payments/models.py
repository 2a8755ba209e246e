"""The shop's record of Stripe events it has processed (one row per event id), and of
webhook deliveries whose handling failed."""

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
