"""Promotion codes as the shop knows them (the code on a cart is the cart's: `CartCode`).

Stripe holds the coupon and the promotion code that customers redeem (and counts the
redemptions); the shop keeps what it offered, so admins can list and withdraw codes and
the cart can say why a code does not apply before Stripe is asked.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime

#: Codes are 3 to 20 of A-Z, 0-9 and `-`, kept upper case (unique ignoring case).
CODE_MAX = 20


class Promotion(TimestampMixin, db.Model):
    """A code customers type: a percentage or an amount in one currency off their order."""

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint(
            "(percent_off IS NULL) <> (amount_off_cents IS NULL)", name="one_kind_of_discount"
        ),
        CheckConstraint(
            "percent_off IS NULL OR (percent_off >= 1 AND percent_off <= 100)",
            name="percent_in_range",
        ),
        CheckConstraint(
            "amount_off_cents IS NULL OR (amount_off_cents > 0 AND currency IS NOT NULL)",
            name="amount_has_currency",
        ),
        CheckConstraint(
            "minimum_cents IS NULL OR (minimum_cents > 0 AND currency IS NOT NULL)",
            name="minimum_has_currency",
        ),
        CheckConstraint("max_redemptions IS NULL OR max_redemptions > 0", name="limit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_MAX), unique=True)
    percent_off: Mapped[int | None]
    amount_off_cents: Mapped[int | None]
    #: The currency of `amount_off_cents` and `minimum_cents` (NULL: a percentage with no
    #: minimum, good in every currency).
    currency: Mapped[str | None] = mapped_column(String(3))
    max_redemptions: Mapped[int | None]
    #: The end of the last day the code can be used (NULL: it does not expire).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minimum_cents: Mapped[int | None]
    first_order_only: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    stripe_coupon_id: Mapped[str] = mapped_column(String(255))
    stripe_promotion_code_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def is_expired(self, now: datetime) -> bool:
        """Past its last day."""
        return self.expires_at is not None and self.expires_at <= now

    def __repr__(self) -> str:
        return f"<Promotion {self.code}>"
