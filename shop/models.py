"""The shop's tables, in SQLAlchemy 2 typed style. Money is integer minor units."""

from datetime import UTC, datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


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
        return email.strip().lower()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Product(TimestampMixin, db.Model):
    """A catalogue entry loaded by `flask seed`; deactivated, never deleted."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    image: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<Product {self.sku} {self.price_cents} {self.currency}>"


class CartItem(TimestampMixin, db.Model):
    """One line of a user's cart (one cart per user, one line per product)."""

    __tablename__ = "cart_items"
    __table_args__ = (
        # The conflict target of the add upsert: two adds of one product share one line.
        UniqueConstraint("user_id", "product_id", name="uq_cart_items_user_id_product_id"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]

    product: Mapped[Product] = relationship()

    def __repr__(self) -> str:
        return f"<CartItem user={self.user_id} product={self.product_id} x{self.quantity}>"


class OrderStatus(StrEnum):
    """Where an order stands; the allowed moves live in `shop.checkout.orders`."""

    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


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
        CheckConstraint(
            "status IN ('pending', 'paid', 'failed', 'expired', 'cancelled', 'refunded')",
            name="status_known",
        ),
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PENDING)
    currency: Mapped[str] = mapped_column(String(3))
    total_cents: Mapped[int]
    cart_fingerprint: Mapped[str] = mapped_column(String(64))
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    session_url: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", order_by="OrderItem.id", cascade="all, delete-orphan"
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
