"""Orders, their lines, and their timeline (one row per thing that happened to an order)."""

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime, one_of, utcnow


class OrderStatus(StrEnum):
    """Where an order stands; the moves between them live in `shop.orders.lifecycle`."""

    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class StockHold(StrEnum):
    """What an order does to stock: nothing yet, units held for its session, released
    again, sold, or sold after the hold was released (a late payment: stock may go below 0)."""

    NONE = "none"
    HELD = "held"
    RELEASED = "released"
    SOLD = "sold"
    SOLD_LATE = "sold_late"


class Source(StrEnum):
    """Where a change to an order came from, as its timeline shows it."""

    CHECKOUT = "checkout"  # the customer's own checkout request
    SUCCESS_PAGE = "success_page"  # the customer's return from Stripe
    WEBHOOK = "webhook"  # an event Stripe delivered (reference: the event id)
    RECONCILE = "reconcile"  # an event `flask payments reconcile` fetched (reference: its id)
    ADMIN = "admin"  # an admin's action (actor: the admin)
    SYSTEM = "system"  # the shop itself (a crashed checkout cleaned up, a migration)


class Order(TimestampMixin, db.Model):
    """One checkout attempt: a snapshot of the cart, tied to one Stripe Checkout Session."""

    __tablename__ = "orders"
    __table_args__ = (
        # One pending order (so one open Checkout Session) per user, decided by the database:
        # it holds across gunicorn workers and dynos, unlike any in-process lock.
        Index(
            "uq_orders_one_pending_per_user",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        CheckConstraint(one_of("status", OrderStatus), name="status_known"),
        CheckConstraint(one_of("stock_hold", StockHold), name="stock_hold_known"),
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default=OrderStatus.PENDING)
    currency: Mapped[str] = mapped_column(String(3))
    total_cents: Mapped[int]
    cart_fingerprint: Mapped[str] = mapped_column(String(64))
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    session_url: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A random key for Stripe's idempotency: stable across retries of this order's
    #: checkout, and never repeated by another database sharing the Stripe account (an
    #: order id is: a fresh database starts again at 1).
    checkout_key: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    stock_hold: Mapped[str] = mapped_column(String(12), default=StockHold.NONE)
    #: Why an admin should look at this order (e.g. paid after its stock was released).
    attention: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", order_by="OrderItem.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order",
        order_by="(OrderEvent.at, OrderEvent.id)",
        cascade="all, delete-orphan",
    )

    def is_resumable(self, now: datetime) -> bool:
        """A pending order whose Checkout Session can still be paid."""
        return (
            self.status == OrderStatus.PENDING
            and self.session_url is not None
            and self.expires_at is not None
            and self.expires_at > now
        )

    def __repr__(self) -> str:
        return f"<Order {self.id} user={self.user_id} {self.status} {self.total_cents}>"


class OrderItem(db.Model):
    """A line of an order: the product's name and price as they were at checkout."""

    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity >= 1", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    name: Mapped[str] = mapped_column(String(200))
    unit_price_cents: Mapped[int]
    quantity: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def line_total_cents(self) -> int:
        """Unit price times quantity, in minor units."""
        return self.unit_price_cents * self.quantity


class OrderEvent(db.Model):
    """One entry of an order's timeline: what happened, when, and from where.

    Written in the same transaction as the change it records (`shop.orders.lifecycle`), so
    the timeline never shows a change that did not happen, nor misses one that did.
    """

    __tablename__ = "order_events"
    __table_args__ = (CheckConstraint(one_of("source", Source), name="source_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: What happened: a status the order moved to ("paid", "expired", ...) or another
    #: kind of entry ("created", "shipped", "refund", ...).
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    #: The webhook or reconciled event id, or the Stripe object concerned.
    reference: Mapped[str | None] = mapped_column(String(255))
    #: The admin who acted, when one did.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[Order] = relationship(back_populates="events")

    def __repr__(self) -> str:
        return f"<OrderEvent {self.order_id} {self.kind} via {self.source}>"
