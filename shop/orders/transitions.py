"""The one place that changes an order's status, with the moves the shop allows."""

from collections.abc import Iterable

from sqlalchemy import update

from ..extensions import db
from ..models import Order, OrderStatus, utcnow

S = OrderStatus

#: Allowed moves. A paid session always wins: money taken is never lost, even for an
#: order the shop had already given up on (failed, expired or cancelled).
ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.PAID, S.FAILED, S.EXPIRED, S.CANCELLED}),
    S.FAILED: frozenset({S.PAID}),
    S.EXPIRED: frozenset({S.PAID}),
    S.CANCELLED: frozenset({S.PAID}),
    S.PAID: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}


class TransitionError(ValueError):
    """A move the shop never makes (e.g. paid back to pending)."""


def sources(target: OrderStatus) -> frozenset[OrderStatus]:
    """Every status an order may leave for `target`."""
    return frozenset(status for status, targets in ALLOWED.items() if target in targets)


def move(
    order_id: int,
    target: OrderStatus,
    *,
    only_from: Iterable[OrderStatus] | None = None,
    where: Iterable = (),
    **values,
) -> bool:
    """Move one order to `target` if it is in an allowed status; True if this call moved it.

    Lock: a guarded `UPDATE ... WHERE status IN (...)`; of two racing moves only one
    matches (PostgreSQL re-checks the condition once the first commits). The caller commits.
    """
    allowed = sources(target)
    wanted = allowed if only_from is None else frozenset(only_from)
    if not wanted or not wanted <= allowed:
        raise TransitionError(f"cannot move an order from {sorted(wanted)} to {target}")
    statement = (
        update(Order)
        .where(Order.id == order_id, Order.status.in_([str(s) for s in wanted]), *where)
        .values(status=str(target), updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1
