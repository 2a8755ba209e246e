"""What admins read: the dashboard's figures, the orders list, one order in full.

Reads only, each in a fixed number of queries whatever the number of orders; sums are
made by the database. The admin's actions go through the area that owns the thing
(`shop.orders.shipping` ships).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import ceil

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from ..auth.models import User
from ..extensions import db
from ..orders.models import (
    PAID_STATES,
    REFUND_COMMITTED,
    Fulfilment,
    Order,
    OrderEvent,
    OrderItem,
    OrderStatus,
    Refund,
)
from . import health
from .forms import OrderFilter

#: Orders on one page of the list.
PAGE_SIZE = 50


def period_starts(now: datetime) -> dict[str, datetime]:
    """When each of the dashboard's periods began: today and the last 7 days (UTC days)."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"today": today, "week": today - timedelta(days=6)}


def _to_ship():
    """Paid (or partly refunded) and not shipped yet: the order's own rule, as SQL."""
    return Order.can_ship


def _count_where(condition, value=1):
    """SUM(value) over the rows where `condition` holds; 0 when none does."""
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


# --- the dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Takings:
    """Orders paid in a period in one currency, and what they brought in after refunds."""

    currency: str
    orders: int
    revenue_cents: int


@dataclass(frozen=True)
class Dashboard:
    """The figures of /admin."""

    starts: dict[str, datetime]
    #: Per period ("today", "week"), one entry per currency that sold.
    takings: dict[str, list[Takings]]
    pending: int
    to_ship: int
    attention: int
    health: health.Health


def dashboard(now: datetime) -> Dashboard:
    """Paid orders and revenue per currency today and in the last 7 days, checkouts still
    pending, orders waiting to ship, orders needing attention, and the health panel
    (webhooks, the email backlog): two queries."""
    starts = period_starts(now)
    revenue = Order.total_cents - Order.refunded_cents - Order.dispute_lost_cents
    periods = list(starts)
    columns = []
    for period in periods:
        paid_since = Order.paid_at >= starts[period]
        columns += [_count_where(paid_since), _count_where(paid_since, revenue)]
    rows = db.session.execute(
        select(Order.currency, *columns)
        .where(Order.paid_at >= min(starts.values()), Order.status.in_(PAID_STATES))
        .group_by(Order.currency)
        .order_by(Order.currency)
    ).all()
    takings: dict[str, list[Takings]] = {period: [] for period in periods}
    for currency, *figures in rows:
        for n, period in enumerate(periods):
            orders, revenue_cents = figures[2 * n], figures[2 * n + 1]
            if orders:
                takings[period].append(Takings(currency, orders, revenue_cents))
    pending = Order.status == str(OrderStatus.PENDING)
    flagged = Order.attention.is_not(None)
    # The health panel's figures ride along as scalar subqueries: no query of their own.
    counts = db.session.execute(
        select(
            _count_where(pending),
            _count_where(_to_ship()),
            _count_where(flagged),
            *health.columns(now),
        ).where(or_(pending, _to_ship(), flagged))
    ).one()
    return Dashboard(
        starts,
        takings,
        pending=counts[0],
        to_ship=counts[1],
        attention=counts[2],
        health=health.read(tuple(counts[3:]), now, pending=counts[0]),
    )


# --- the orders list -------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrencyTotals:
    """The listed orders in one currency: how many, their totals and what was refunded."""

    currency: str
    orders: int
    total_cents: int
    refunded_cents: int


@dataclass(frozen=True)
class OrderRow:
    """One line of the list: the order, its customer's email, the units it holds."""

    order: Order
    email: str
    units: int


@dataclass(frozen=True)
class OrderList:
    """One page of the orders a filter selects, and the totals of all of them."""

    rows: list[OrderRow]
    totals: list[CurrencyTotals]
    page: int
    pages: int

    @property
    def count(self) -> int:
        """Orders the filter selects, on every page."""
        return sum(totals.orders for totals in self.totals)


def _conditions(wanted: OrderFilter, now: datetime) -> list:
    """The WHERE clauses of a filter (over orders joined to their customer)."""
    conditions = []
    if wanted.status:
        conditions.append(Order.status == wanted.status)
    if wanted.fulfilment == Fulfilment.UNFULFILLED:
        conditions.append(_to_ship())
    elif wanted.fulfilment:
        conditions.append(Order.fulfilment == wanted.fulfilment)
    if wanted.period:
        conditions.append(Order.paid_at >= period_starts(now)[wanted.period])
    if wanted.attention:
        conditions.append(Order.attention.is_not(None))
    if wanted.q:
        email = User.email.contains(wanted.email_part, autoescape=True)
        number = wanted.order_number
        conditions.append(or_(Order.id == number, email) if number else email)
    return conditions


def find_orders(wanted: OrderFilter, now: datetime) -> OrderList:
    """The page `wanted.page` of the orders the filter selects, newest first, with the
    totals per currency of all of them: two queries, whatever the number of orders."""
    conditions = _conditions(wanted, now)
    totals = [
        CurrencyTotals(*row)
        for row in db.session.execute(
            select(
                Order.currency,
                func.count(),
                func.sum(Order.total_cents),
                func.sum(Order.refunded_cents + Order.dispute_lost_cents),
            )
            .join(User, User.id == Order.user_id)
            .where(*conditions)
            .group_by(Order.currency)
            .order_by(Order.currency)
        )
    ]
    units = (
        select(func.coalesce(func.sum(OrderItem.quantity), 0))
        .where(OrderItem.order_id == Order.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Order, User.email, units)
        .join(User, User.id == Order.user_id)
        .where(*conditions)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(PAGE_SIZE)
        .offset((wanted.page - 1) * PAGE_SIZE)
    ).all()
    count = sum(row.orders for row in totals)
    return OrderList(
        rows=[OrderRow(*row) for row in rows],
        totals=totals,
        page=wanted.page,
        pages=max(1, ceil(count / PAGE_SIZE)),
    )


# --- one order -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """An entry of the order's timeline, with the email of the admin who acted (if one did)."""

    event: OrderEvent
    actor_email: str | None


@dataclass(frozen=True)
class RefundEntry:
    """A refund of the order, with the email of the admin who asked (None: made elsewhere)."""

    refund: Refund
    actor_email: str | None


@dataclass(frozen=True)
class OrderDetail:
    """One order with its lines, customer's email, refunds and timeline, oldest first."""

    order: Order
    email: str
    timeline: list[TimelineEntry]
    refunds: list[RefundEntry]
    left_to_refund: int


def order_detail(order_id: int) -> OrderDetail | None:
    """Everything the order page shows (four queries); None for an unknown id."""
    found = db.session.execute(
        select(Order, User.email)
        .join(User, User.id == Order.user_id)
        .where(Order.id == order_id)
        .options(selectinload(Order.items))
    ).first()
    if found is None:
        return None
    actor = aliased(User)
    events = db.session.execute(
        select(OrderEvent, actor.email)
        .outerjoin(actor, actor.id == OrderEvent.actor_id)
        .where(OrderEvent.order_id == order_id)
        .order_by(OrderEvent.at, OrderEvent.id)
    ).all()
    refunds = db.session.execute(
        select(Refund, actor.email)
        .outerjoin(actor, actor.id == Refund.actor_id)
        .where(Refund.order_id == order_id)
        .order_by(Refund.id)
    ).all()
    entries = [RefundEntry(*refund) for refund in refunds]
    committed = sum(e.refund.amount_cents for e in entries if e.refund.status in REFUND_COMMITTED)
    return OrderDetail(
        found[0],
        found[1],
        [TimelineEntry(*event) for event in events],
        entries,
        found[0].total_cents - committed,
    )
