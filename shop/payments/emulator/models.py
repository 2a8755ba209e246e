"""The emulator's own state: Checkout Sessions, payments and refunds, coupons, promotion
codes and tax rates, idempotency keys, events and deliveries.

Kept in the database (not in memory) so every gunicorn worker sees the same Stripe.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false as sa_false

from ...extensions import db
from ...models import UTCDateTime, utcnow


class EmulatorSession(db.Model):
    """A Checkout Session; line items are kept as JSON as they were created."""

    __tablename__ = "emulator_checkout_sessions"

    # `pk` orders the list endpoint (newest first) where `created` seconds tie.
    pk: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    payment_status: Mapped[str] = mapped_column(String(24))
    mode: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    amount_subtotal: Mapped[int] = mapped_column(Integer)
    amount_total: Mapped[int] = mapped_column(Integer)
    #: `total_details`: what the discount took off and what tax the lines carry.
    amount_discount: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    amount_tax: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The discount applied (`{"promotion_code": id | None, "coupon": id}`), NULL for none.
    discount: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    allow_promotion_codes: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    automatic_tax: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    line_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: Where it ships and the rates it offers, and once paid what was collected
    #: (`emulator.shipping`); NULL for a session that asked for neither.
    shipping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    payment_method_types: Mapped[list[str]] = mapped_column(JSON)
    success_url: Mapped[str] = mapped_column(Text)
    cancel_url: Mapped[str | None] = mapped_column(Text)
    client_reference_id: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(512))
    #: The Customer the session pays for (`customer`), and whether the page offers to save
    #: the card (`saved_payment_method_options[payment_method_save]=enabled`).
    customer: Mapped[str | None] = mapped_column(String(255))
    save_card_offered: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    #: The page's language (`locale`; None: Stripe's "auto", the browser's).
    locale: Mapped[str | None] = mapped_column(String(16))
    # `metadata` is taken by the declarative base; the column keeps Stripe's name.
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON)
    payment_intent: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    created: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)

    def __repr__(self) -> str:
        return f"<EmulatorSession {self.id} {self.status}>"


class EmulatorIdempotencyKey(db.Model):
    """The first answer given for an `Idempotency-Key`; the unique key decides races."""

    __tablename__ = "emulator_idempotency_keys"

    pk: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmulatorEvent(db.Model):
    """An event as Stripe would send it; `payload` is the exact JSON body delivered."""

    __tablename__ = "emulator_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    created: Mapped[int] = mapped_column(Integer)
    # Creation time in nanoseconds: orders `GET /v1/events` where `created` seconds tie.
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    payload: Mapped[str] = mapped_column(Text)


class EmulatorDelivery(db.Model):
    """One attempt to deliver an event to the webhook endpoint, and what it answered."""

    __tablename__ = "emulator_deliveries"

    pk: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("emulator_events.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmulatorPayment(db.Model):
    """A session's PaymentIntent and, once paid, its one Charge (Checkout makes one each).

    Kept as one row: a refund checks and moves `amount_refunded` with one guarded UPDATE.
    """

    __tablename__ = "emulator_payments"

    pk: Mapped[int] = mapped_column(primary_key=True)
    payment_intent_id: Mapped[str] = mapped_column(String(255), unique=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("emulator_checkout_sessions.id"), unique=True
    )
    # `succeeded`, or `requires_payment_method` after a declined card.
    status: Mapped[str] = mapped_column(String(32))
    charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    payment_method_id: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[int] = mapped_column(Integer)
    amount_refunded: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    decline_code: Mapped[str | None] = mapped_column(String(64))
    # Paid with Stripe's "refund fails" test card (4000 0000 0000 5126): refunds fail.
    refunds_fail: Mapped[bool] = mapped_column(Boolean)
    receipt_email: Mapped[str | None] = mapped_column(String(512))
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON)
    created: Mapped[int] = mapped_column(Integer)
    paid_at: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount", name="refunded_within_amount"
        ),
    )


class EmulatorRefund(db.Model):
    """A Refund of (part of) a payment's charge."""

    __tablename__ = "emulator_refunds"

    pk: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(String(255), unique=True)
    payment_pk: Mapped[int] = mapped_column(ForeignKey("emulator_payments.pk"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON)
    created: Mapped[int] = mapped_column(Integer)


class EmulatorCoupon(db.Model):
    """A Coupon: what a discount takes off (a percentage, or an amount in one currency)."""

    __tablename__ = "emulator_coupons"

    pk: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(40))
    percent_off: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    amount_off: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    duration: Mapped[str] = mapped_column(String(16))
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    redeem_by: Mapped[int | None] = mapped_column(Integer)
    times_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON)
    created: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(
            "max_redemptions IS NULL OR times_redeemed <= max_redemptions",
            name="coupon_redeemed_within_max",
        ),
    )


class EmulatorPromotionCode(db.Model):
    """A Promotion Code: a code customers type for a coupon, with its own limits."""

    __tablename__ = "emulator_promotion_codes"

    pk: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(String(255), unique=True)
    code: Mapped[str] = mapped_column(String(200), index=True)
    coupon_id: Mapped[str] = mapped_column(ForeignKey("emulator_coupons.id"))
    active: Mapped[bool] = mapped_column(Boolean)
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    times_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[int | None] = mapped_column(Integer)
    first_time_transaction: Mapped[bool] = mapped_column(Boolean)
    minimum_amount: Mapped[int | None] = mapped_column(Integer)
    minimum_amount_currency: Mapped[str | None] = mapped_column(String(3))
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON)
    created: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # The database, not a read-then-write, keeps a limited code within its limit.
        CheckConstraint(
            "max_redemptions IS NULL OR times_redeemed <= max_redemptions",
            name="promotion_redeemed_within_max",
        ),
    )


class EmulatorTaxRate(db.Model):
    """A Tax Rate: a percentage, inclusive (in the price) or exclusive (added to it)."""

    __tablename__ = "emulator_tax_rates"

    pk: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)
    percentage: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    inclusive: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    country: Mapped[str | None] = mapped_column(String(2))
    jurisdiction: Mapped[str | None] = mapped_column(String(50))
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON)
    created: Mapped[int] = mapped_column(Integer)


class EmulatorCustomer(db.Model):
    """A Customer: the account a shop customer's saved cards hang on."""

    __tablename__ = "emulator_customers"

    pk: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(512))
    name: Mapped[str | None] = mapped_column(String(256))
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON)
    created: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class EmulatorPaymentMethod(db.Model):
    """A card a customer saved on the hosted page (`save_card`), attached to their Customer
    until detached."""

    __tablename__ = "emulator_payment_methods"

    pk: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(String(255), unique=True)
    customer: Mapped[str | None] = mapped_column(String(255), index=True)
    brand: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
