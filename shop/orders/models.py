"""Orders, their lines, and their timeline (one row per thing that happened to an order)."""

import operator
import secrets
from datetime import datetime
from enum import StrEnum
from functools import reduce

from flask_babel import gettext as _
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy import true as sa_true
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime, one_of, utcnow

#: Longest carrier name and tracking number an admin may record.
CARRIER_MAX = 64
TRACKING_MAX = 64
#: Longest shipping rate name kept (Stripe's `display_name` is at most 100).
SHIPPING_RATE_MAX = 100


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
    RETURNED = "returned"  # refunded, and an admin put the units back on the shelf


#: Statuses of an order whose money was taken (whatever came back since).
PAID_STATES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)
#: Statuses an order may ship from: paid, and not all of it refunded.
SHIPPABLE = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


class Fulfilment(StrEnum):
    """Whether an order's goods have left, apart from its payment status."""

    UNFULFILLED = "unfulfilled"
    SHIPPED = "shipped"


class DisputeState(StrEnum):
    """An order's dispute axis, apart from its payment status (NULL: never disputed)."""

    OPEN = "open"  # the bank has not decided: the money is held back
    WON = "won"  # decided for the shop: the money is ours again
    LOST = "lost"  # decided for the customer: the money went back, like a refund


class RefundStatus(StrEnum):
    """A refund's state, as Stripe reports it (the shop's own row starts as pending)."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


#: Refund statuses by how final they are: a status never gives way to a less final one,
#: so events arriving in any order leave each refund as Stripe last had it.
REFUND_FINALITY = {
    RefundStatus.PENDING: 0,
    RefundStatus.REQUIRES_ACTION: 0,
    RefundStatus.SUCCEEDED: 1,
    RefundStatus.FAILED: 2,
    RefundStatus.CANCELED: 2,
}
#: Refund statuses whose amount counts against what is left to refund.
REFUND_COMMITTED = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION, RefundStatus.SUCCEEDED)
#: Reasons Stripe accepts for a refund ("" gives none).
REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent")


class Source(StrEnum):
    """Where a change to an order came from, as its timeline shows it."""

    CHECKOUT = "checkout"  # the customer's own checkout request
    SUCCESS_PAGE = "success_page"  # the customer's return from Stripe
    WEBHOOK = "webhook"  # an event Stripe delivered (reference: the event id)
    RECONCILE = "reconcile"  # an event `flask payments reconcile` fetched (reference: its id)
    ADMIN = "admin"  # an admin's action (actor: the admin)
    SYSTEM = "system"  # the shop itself (a crashed checkout cleaned up, a migration)


def _items_default(context) -> int:
    """An order made without a subtotal: its total less shipping (what the items cost)."""
    values = context.get_current_parameters()
    return values["total_cents"] - (values.get("shipping_cents") or 0)


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
        CheckConstraint(
            "subtotal_cents >= 0 AND tax_cents >= 0 AND discount_cents >= 0 "
            "AND discount_cents <= subtotal_cents",
            name="amounts_in_range",
        ),
        CheckConstraint(
            "shipping_cents >= 0 AND shipping_cents <= total_cents", name="shipping_within_total"
        ),
        CheckConstraint(one_of("fulfilment", Fulfilment), name="fulfilment_known"),
        # Only money taken ships, and a shipment has a date.
        CheckConstraint(
            f"fulfilment = 'unfulfilled' OR (shipped_at IS NOT NULL AND "
            f"{one_of('status', PAID_STATES)})",
            name="shipped_when_paid",
        ),
        CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= total_cents", name="refunded_within_total"
        ),
        CheckConstraint(
            f"dispute IS NULL OR {one_of('dispute', DisputeState)}", name="dispute_known"
        ),
        CheckConstraint(
            "dispute_lost_cents >= 0 AND refunded_cents + dispute_lost_cents <= total_cents",
            name="returned_within_total",
        ),
        Index("ix_orders_created_at", "created_at"),
        Index("ix_orders_paid_at", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default=OrderStatus.PENDING)
    currency: Mapped[str] = mapped_column(String(3))
    #: What Stripe charged, from the completed session: the items at list price
    #: (`amount_subtotal`), what a code took off, the tax on the lines (inside the subtotal
    #: for an inclusive rate, added for an exclusive one), and the total with shipping. Until
    #: paid, the subtotal and total are the shop's own sum of the items.
    subtotal_cents: Mapped[int] = mapped_column(default=_items_default, server_default="0")
    discount_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    tax_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    total_cents: Mapped[int]
    #: The promotion code used (as typed, upper case) and Stripe's id for it; NULL for none.
    promotion_code: Mapped[str | None] = mapped_column(String(20))
    promotion_code_id: Mapped[str | None] = mapped_column(String(255))
    cart_fingerprint: Mapped[str] = mapped_column(String(64))
    #: False for a Buy now of one product: its fulfilment takes nothing out of the cart.
    from_cart: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    session_url: Mapped[str | None] = mapped_column(Text)
    #: The language the customer checked out in: its names and Stripe's page are in it.
    language: Mapped[str | None] = mapped_column(String(5))
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

    #: What of the total went back to the customer (kept by the refunds work), minor units.
    refunded_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Whether a customer disputed the charge with their bank (`DisputeState`, kept by
    #: `shop.orders.disputes`), and what of the total a lost dispute took back, minor units.
    dispute: Mapped[str | None] = mapped_column(String(8))
    dispute_lost_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    fulfilment: Mapped[str] = mapped_column(
        String(16), default=Fulfilment.UNFULFILLED, server_default=Fulfilment.UNFULFILLED.value
    )
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    carrier: Mapped[str | None] = mapped_column(String(CARRIER_MAX))
    tracking_number: Mapped[str | None] = mapped_column(String(TRACKING_MAX))
    #: Where to ship, as Stripe collected it (`name`, `line1`, `line2`, `city`,
    #: `postal_code`, `state`, `country`); NULL for orders from before addresses were asked
    #: for, or a session that collected none.
    shipping_address: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))
    #: The rate the customer picked ("Standard (3–5 business days)") and what it cost:
    #: part of `total_cents`, which is what Stripe charged.
    shipping_rate: Mapped[str | None] = mapped_column(String(SHIPPING_RATE_MAX))
    shipping_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The rates the session offered, by Stripe's id: how `shipping_rate` is named.
    shipping_offers: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))

    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", order_by="OrderItem.id", cascade="all, delete-orphan"
    )
    refunds: Mapped[list["Refund"]] = relationship(
        order_by="Refund.id", cascade="all, delete-orphan", viewonly=False
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

    @property
    def was_paid(self) -> bool:
        """The money was taken (it may have come back since)."""
        return self.status in PAID_STATES

    @property
    def returned_cents(self) -> int:
        """What of the total went back: refunds, and disputes the shop lost."""
        return self.refunded_cents + self.dispute_lost_cents

    @property
    def is_shipped(self) -> bool:
        """The goods have left."""
        return self.fulfilment == Fulfilment.SHIPPED

    @property
    def ship_country(self) -> str | None:
        """The ISO country the order ships to, when Stripe collected an address."""
        return (self.shipping_address or {}).get("country") or None

    @property
    def items_cents(self) -> int:
        """What the goods cost, before shipping."""
        return self.total_cents - self.shipping_cents

    @property
    def tax_included(self) -> bool:
        """The tax was inside the prices (an inclusive rate), not added to the total: read
        from Stripe's own figures, which add up one way or the other."""
        added = self.subtotal_cents - self.discount_cents + self.shipping_cents
        return added == self.total_cents

    def breakdown(self, tax_name: str = "Tax") -> list[tuple[str, int, str]]:
        """The lines above the total, as Stripe charged them: (label, cents, kind) for the
        subtotal, the discount (negative), the tax and shipping; none when the total is
        simply the items."""
        if not (self.discount_cents or self.tax_cents or self.shipping_cents or self.shipping_rate):
            return []
        rows = [(_("Subtotal"), self.subtotal_cents, "subtotal")]
        if self.discount_cents:
            code = self.promotion_code
            label = _("Discount (%(code)s)", code=code) if code else _("Discount")
            rows.append((label, -self.discount_cents, "discount"))
        if self.tax_cents:
            label = _("%(tax)s (included)", tax=tax_name) if self.tax_included else tax_name
            rows.append((label, self.tax_cents, "tax"))
        if self.shipping_cents or self.shipping_rate:
            rate = self.shipping_rate
            label = _("Shipping (%(rate)s)", rate=rate) if rate else _("Shipping")
            rows.append((label, self.shipping_cents, "shipping"))
        return rows

    @hybrid_property
    def can_ship(self):
        """Ready to ship: paid (not wholly refunded) and not shipped yet. Defined once: on a
        loaded order `==`, `|` and `&` give a bool, and on the class (`Order.can_ship`) the
        same expression is the SQL that the dashboard, the orders list and the guarded
        UPDATE of `lifecycle.ship` use."""
        paid = reduce(operator.or_, [self.status == str(status) for status in SHIPPABLE])
        return paid & (self.fulfilment == str(Fulfilment.UNFULFILLED))

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


class Refund(TimestampMixin, db.Model):
    """Money given back on an order: asked for by an admin here, or made at Stripe (the
    Dashboard) and learned from its events. Stripe's own figures decide its status."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(one_of("status", RefundStatus), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    #: The shop's key for this refund: Stripe's idempotency key is made from it, and the
    #: admin's form carries it, so a double click or a retry is the same refund.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.PENDING)
    #: Who asked: an admin (actor_id), or nobody here ("Stripe Dashboard").
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    return_to_stock: Mapped[bool] = mapped_column(default=False)
    failure: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Refund {self.id} order={self.order_id} {self.amount_cents} {self.status}>"


class Dispute(TimestampMixin, db.Model):
    """A customer's dispute (chargeback) of an order's charge, as Stripe last had it."""

    __tablename__ = "disputes"
    __table_args__ = (CheckConstraint("amount_cents >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    stripe_dispute_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(64), default="")
    #: Stripe's status (`needs_response`, `under_review`, `won`, `lost`...).
    status: Mapped[str] = mapped_column(String(32))
    evidence_due_by: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Dispute {self.stripe_dispute_id} order={self.order_id} {self.status}>"
