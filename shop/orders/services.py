"""Reading a customer's orders (always scoped to that customer), and the shop's pending
orders as /metrics reads them."""

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import metrics
from ..extensions import db
from ..models import ID_MAX
from .models import Order, OrderStatus


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


def any_pending(orders: list[Order]) -> bool:
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
