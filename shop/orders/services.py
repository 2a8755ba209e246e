"""Reading a customer's orders (always scoped to that customer), and the shop's pending
orders as /metrics reads them."""

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ScalarSelect, Select, and_, bindparam, func, select, type_coerce
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.types import NullType

from .. import metrics
from ..extensions import db
from ..models import ID_MAX
from .models import Order, OrderItem, OrderStatus

#: The most checkout keys `list_summaries` leaves out lines for: bounds the statement's
#: parameters (SQLite allows 32,766); a longer history simply reads every line.
KNOWN_MAX = 1000

#: The times of an order that My Orders shows or checks.
TIMES = ("created_at", "paid_at", "shipped_at", "expires_at")


class OrderSummary(NamedTuple):
    """What My Orders shows of an order, without its lines: equal summaries show alike.

    Times are as the database driver hands them over (a string on SQLite), which is enough
    to compare summaries; `shown()` has them as aware UTC datetimes. `checkout_key` is
    random per order and never repeated (not even by another database, where ids start
    again at 1): it names this very order, whose lines never change.
    """

    id: int
    checkout_key: str
    status: str
    currency: str
    total_cents: int
    created_at: Any
    paid_at: Any
    refunded_cents: int
    fulfilment: str
    shipped_at: Any
    carrier: str | None
    tracking_number: str | None
    session_url: str | None
    expires_at: Any

    # The order's own rules, applied to the summary's copy of the same columns.
    was_paid = Order.was_paid
    is_shipped = Order.is_shipped

    def shown(self) -> "OrderSummary":
        """The same summary with its times as aware UTC datetimes (as `Order` has them)."""
        # The column type's own conversion for the dialect: what the ORM does to a row.
        dialect = db.engine.dialect
        convert = Order.created_at.type.dialect_impl(dialect).result_processor(dialect, None)
        return self._replace(**{name: convert(getattr(self, name)) for name in TIMES})

    def is_resumable(self, now: datetime) -> bool:
        """A pending order whose Checkout Session can still be paid (`Order.is_resumable`)."""
        if self.status != OrderStatus.PENDING:
            return False  # almost every order: no time to convert
        return Order.is_resumable(self.shown(), now)


class OrderLine(NamedTuple):
    """A line of an order as My Orders shows it."""

    name: str
    unit_price_cents: int
    quantity: int

    line_total_cents = OrderItem.line_total_cents


def _summaries(skipping: bool) -> Select:
    """The statement of `list_summaries` (parameters `user_id` and, when `skipping`, the
    list `known`), made once: building it per request, with its IN list, costs more than
    running it."""
    orders, items = Order.__table__.c, OrderItem.__table__.c
    # The times untouched (the type converting them costs more than the rest of the row).
    columns = [
        type_coerce(orders[name], NullType()) if name in TIMES else orders[name]
        for name in OrderSummary._fields
    ]
    joined = items.order_id == orders.id
    if skipping:
        joined = and_(joined, orders.checkout_key.not_in(bindparam("known", expanding=True)))
    return (
        select(*columns, items.name, items.unit_price_cents, items.quantity)
        .select_from(Order.__table__.outerjoin(OrderItem.__table__, joined))
        .where(orders.user_id == bindparam("user_id"))
        .order_by(orders.created_at.desc(), orders.id.desc(), items.id)
    )


_SUMMARIES, _SUMMARIES_SKIPPING = _summaries(False), _summaries(True)


def list_summaries(
    user_id: int, known: Collection[str] = ()
) -> list[tuple[OrderSummary, tuple[OrderLine, ...] | None]]:
    """The user's orders newest first, each with its lines, in one statement whatever the
    count. Lines are None for the orders whose checkout key is in `known` (the caller has
    them already: an order's lines never change), which the database then does not read
    (unless `known` holds more than KNOWN_MAX keys: every line is read then).
    """
    # Plain rows of the shown columns rather than ORM objects, on the session's connection
    # (its transaction) without the ORM's part: no identity map, no instance state,
    # nothing lazy. The left join finds no line for a known order (its ON condition is
    # false before any line is looked up) and gives one row of NULLs for it.
    skipped = frozenset(known) if len(known) <= KNOWN_MAX else frozenset()
    connection = db.session.connection()
    if skipped:
        rows = connection.execute(
            _SUMMARIES_SKIPPING, {"user_id": user_id, "known": list(skipped)}
        ).all()
    else:
        rows = connection.execute(_SUMMARIES, {"user_id": user_id}).all()
    width = len(OrderSummary._fields)
    summaries: list[OrderSummary] = []
    lines: dict[int, list[OrderLine]] = {}
    for row in rows:
        if not summaries or summaries[-1].id != row[0]:
            summaries.append(OrderSummary._make(row[:width]))
            lines[row[0]] = []
        if row[width] is not None:  # a line (NULLs: a known order, or one without lines)
            lines[row[0]].append(OrderLine._make(row[width:]))
    return [
        (summary, None if summary.checkout_key in skipped else tuple(lines[summary.id]))
        for summary in summaries
    ]


def list_orders(user_id: int) -> list[Order]:
    """The user's orders with their items, newest first, in one query whatever the count."""
    # One joined query rather than a second SELECT ... IN for the items: one round trip
    # to the database, so the page with My Orders open stays within four queries.
    return list(
        db.session.scalars(
            select(Order)
            .where(Order.user_id == user_id)
            .options(joinedload(Order.items))
            .order_by(Order.created_at.desc(), Order.id.desc())
        ).unique()
    )


def find_order(user_id: int, order_id: int) -> Order | None:
    """One of the user's orders with its items and timeline; None for anyone else's."""
    if order_id > ID_MAX:
        return None
    return db.session.scalar(
        select(Order)
        .where(Order.id == order_id, Order.user_id == user_id)
        .options(selectinload(Order.items), selectinload(Order.events))
    )


def find_by_session(user_id: int, session_id: str) -> Order | None:
    """The user's order for a Checkout Session id; None for anyone else's or a made-up id."""
    if not session_id or len(session_id) > 255:
        return None
    return db.session.scalar(
        select(Order).where(Order.user_id == user_id, Order.stripe_session_id == session_id)
    )


def any_pending(orders: Iterable[Order | OrderSummary]) -> bool:
    """Whether the list shows an order still waiting for Stripe (the modal keeps polling)."""
    return any(order.status == OrderStatus.PENDING for order in orders)


def pending_count() -> ScalarSelect:
    """How many orders wait for Stripe (counted on the one-pending-per-user partial index)."""
    return (
        select(func.count())
        .select_from(Order)
        .where(Order.status == OrderStatus.PENDING)
        .scalar_subquery()
    )


def readings() -> list[metrics.Reading]:
    """What /metrics reads from the orders at each scrape."""
    return [
        metrics.Reading(
            "shop_orders_pending",
            "Orders whose Checkout Session is not settled yet.",
            pending_count,
        )
    ]
