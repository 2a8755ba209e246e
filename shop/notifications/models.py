"""The outbox: one row per message the shop owes someone, written in the same transaction
as the change that causes it and sent later by the worker."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime, one_of, utcnow


class OutboxStatus(StrEnum):
    """Where a message stands."""

    PENDING = "pending"  # waiting for a worker (first try, or the next one after a failure)
    SENT = "sent"  # the SMTP server accepted it (or, in development, it was written to a file)
    FAILED = "failed"  # given up: refused for good, or every attempt used


class OutboxMessage(TimestampMixin, db.Model):
    """A message owed: to whom, of which kind, saying what, and how sending it went."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(one_of("status", OutboxStatus), name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # What a worker looks for: pending rows by due time (sent ones pile up, unread).
        Index(
            "ix_outbox_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        # /metrics counts messages by status at every scrape: an index-only count, never a
        # scan of every message ever sent with its context.
        Index("ix_outbox_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What caused the message, once: "order:12:receipt", "refund:re_123"... A second
    #: enqueue for the same cause inserts nothing.
    cause: Mapped[str] = mapped_column(String(200), unique=True)
    #: The templates it is rendered from: templates/email/<kind>.txt and .html.
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254))
    #: What the message says, as it was when the cause happened (plain JSON values).
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    #: The Message-ID header, fixed when the row is made: a copy sent again after a crash
    #: carries the same one, so mail clients and the recipient's server can tell.
    message_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    #: Claims made so far (each claim is one try at sending).
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: While a worker sends it: until when the claim holds, and the claim's random token.
    #: A claim that runs out (the worker died) makes the row due again.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.cause} {self.status}>"
