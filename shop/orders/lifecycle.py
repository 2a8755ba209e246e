"""The one place an order changes: every move is a guarded UPDATE plus a timeline entry,
written in the same transaction, so the timeline holds exactly the changes that happened.

    pending ──> paid | failed | expired | cancelled
    failed | expired | cancelled ──> paid        (money taken is never lost)
    paid ──> partially_refunded ──> refunded;  paid ──> refunded
    and, settling what Stripe says was refunded (REFUND_MOVES), back again when a refund
    fails after it succeeded: the paid states move among themselves

Stock follows the moves in the same transaction: leaving pending for failed, expired or
cancelled releases the order's held units; paid sells them (and a payment that arrives
after its hold was released still sells them, flagging the order for an admin).
Fulfilment is apart from the status: `ship` takes a paid (or partly refunded) order from
unfulfilled to shipped, once.

Callers commit (each service owns its one commit); nothing here calls Stripe.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from .. import metrics
from ..extensions import db
from ..models import utcnow
from ..payments import PaymentEvent
from . import stock
from .models import (
    PAID_STATES,
    DisputeState,
    Fulfilment,
    Order,
    OrderEvent,
    OrderStatus,
    Source,
)

S = OrderStatus
#: Leaving pending for these gives the held units back.
RELEASING = frozenset({S.FAILED, S.EXPIRED, S.CANCELLED})
#: What an admin reads on an order paid after its units were released.
LATE_PAYMENT = (
    "Paid after its stock hold was released (the session had expired or been replaced): "
    "its units were sold anyway, so stock may be short. Check the stock and contact the "
    "customer if an item cannot ship."
)

#: Allowed moves. A paid session always wins: money taken is never lost, even for an
#: order the shop had already given up on (failed, expired or cancelled).
ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.PAID, S.FAILED, S.EXPIRED, S.CANCELLED}),
    S.FAILED: frozenset({S.PAID}),
    S.EXPIRED: frozenset({S.PAID}),
    S.CANCELLED: frozenset({S.PAID}),
    S.PAID: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}


#: What Stripe's refund figures move a paid order between (`settle_refunds`), both ways: a
#: refund that fails after it succeeded gives the money back. Apart from ALLOWED, so that
#: no payment event can take a refunded order back to paid.
REFUND_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PAID: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PAID, S.REFUNDED}),
    S.REFUNDED: frozenset({S.PAID, S.PARTIALLY_REFUNDED}),
}
#: Arrivals a refund settlement counts in shop_orders_total: money going back, not a
#: refund's failure (an order back at paid is no new sale).
REFUND_COUNTED = frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED})


class TransitionError(ValueError):
    """A move the shop never makes (e.g. paid back to pending)."""


@dataclass(frozen=True)
class Origin:
    """Where a change comes from, as the timeline records it."""

    source: Source
    #: The webhook or reconciled event id, or the Stripe object concerned.
    reference: str | None = None
    #: The admin who acted.
    actor_id: int | None = None

    @classmethod
    def of_event(cls, event: PaymentEvent) -> "Origin":
        """A Stripe event, delivered to the webhook or fetched by reconcile."""
        source = Source.RECONCILE if event.via == "reconcile" else Source.WEBHOOK
        return cls(source, event.id)


def sources(target: OrderStatus, table=ALLOWED) -> frozenset[OrderStatus]:
    """Every status an order may leave for `target` by the moves of `table`."""
    return frozenset(status for status, targets in table.items() if target in targets)


def move(
    order_id: int,
    target: OrderStatus,
    origin: Origin,
    *,
    only_from: Iterable[OrderStatus] | None = None,
    where: Iterable = (),
    note: str = "",
    refunds: bool = False,
    **values,
) -> bool:
    """Move one order to `target` if it is in an allowed status, and record it on the
    timeline; True if this call moved it.

    Lock: a guarded `UPDATE ... WHERE status IN (...)`; of two racing moves only one
    matches (PostgreSQL re-checks the condition once the first commits), so only one
    timeline entry is written. The caller commits.

    `refunds` takes the moves of REFUND_MOVES instead of ALLOWED: stock does not follow
    them, and only money going back is counted.
    """
    allowed = sources(target, REFUND_MOVES if refunds else ALLOWED)
    wanted = allowed if only_from is None else frozenset(only_from)
    if not wanted or not wanted <= allowed:
        raise TransitionError(f"cannot move an order from {sorted(wanted)} to {target}")
    moved = _update_one(
        order_id, [Order.status.in_([str(s) for s in wanted]), *where], status=str(target), **values
    )
    if moved:
        change = None if refunds else _stock_follows(order_id, target)
        if change is not None:
            note = "; ".join(part for part in (note, f"{change.kind} {change.note}") if part)
        record(order_id, str(target), origin, note)
        if change is not None and change.kind == "sold_late":
            flag(order_id, LATE_PAYMENT)
        # Counted with the commit that makes the move real: a rolled-back move never was.
        if not refunds or target in REFUND_COUNTED:
            metrics.on_commit(metrics.ORDERS.labels(outcome=str(target)))
    return moved


def _stock_follows(order_id: int, target: OrderStatus) -> stock.Change | None:
    """Release or sell the order's units for the move just made (once: the move was)."""
    if target in RELEASING:
        return stock.release(order_id)
    if target == S.PAID:
        return stock.sell(order_id)
    return None


def flag(order_id: int, reason: str) -> None:
    """Ask an admin to look at an order: the dashboard lists it with `reason`."""
    # Lock: one UPDATE; a later flag replaces the reason, which the timeline keeps anyway.
    db.session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(attention=reason)
        .execution_options(synchronize_session=False)
    )
    record(order_id, "attention", Origin(Source.SYSTEM), reason)


#: Dispute states an order ships from only when the admin confirms it.
DISPUTED = (DisputeState.OPEN, DisputeState.LOST)


def ship(
    order_id: int,
    origin: Origin,
    carrier: str = "",
    tracking_number: str = "",
    disputed_ok: bool = False,
    addressless_ok: bool = False,
) -> bool:
    """Mark a paid or partly refunded order shipped, with its carrier and tracking number
    (either may be empty), and record it on the timeline; True if this call shipped it.
    A disputed order ships only with `disputed_ok`, one without an address only with
    `addressless_ok`.

    Lock: a guarded `UPDATE ... WHERE <Order.can_ship>` (unfulfilled, paid or partly
    refunded); of two racing shipments only one matches, so the order ships once with one
    timeline entry. The caller commits.
    """
    shipped = _update_one(
        order_id,
        [
            Order.can_ship,
            *(
                ()
                if disputed_ok
                else [
                    or_(Order.dispute.is_(None), Order.dispute.not_in([str(d) for d in DISPUTED]))
                ]
            ),
            *(() if addressless_ok else [Order.shipping_address.is_not(None)]),
        ],
        fulfilment=str(Fulfilment.SHIPPED),
        shipped_at=utcnow(),
        carrier=carrier or None,
        tracking_number=tracking_number or None,
    )
    if shipped:
        tracking = f"tracking {tracking_number}" if tracking_number else "no tracking number"
        note = f"{carrier}, {tracking}" if carrier else tracking
        if addressless_ok:
            note += "; the admin confirmed shipping without an address on the order"
        record(order_id, str(Fulfilment.SHIPPED), origin, note)
    return shipped


def lock(order_id: int) -> bool:
    """Hold the order's row until the transaction ends (the first statement of a change
    that reads the order to decide, e.g. how much is left to refund); False if none."""
    # Lock: UPDATE of the row itself: PostgreSQL's row lock, SQLite's write lock, both
    # taken before anything is read, so the read that follows is never stale.
    return _update_one(order_id, [])


def settle_refunds(order_id: int, refunded_cents: int, origin: Origin, note: str = "") -> bool:
    """Set what was refunded of a paid order, from Stripe's figures, and the status that
    makes it: paid, partly refunded or refunded (a refund that failed after it succeeded
    gives the money back to the order); a status change goes on the timeline. The caller
    holds the order's row (`lock`) and commits. False if the order was never paid."""
    found = db.session.execute(
        select(Order.status, Order.total_cents, Order.dispute_lost_cents).where(
            Order.id == order_id
        )
    ).one_or_none()
    if found is None or found.status not in PAID_STATES:
        return False
    # What a lost dispute took back cannot be refunded as well.
    refunded = min(max(refunded_cents, 0), found.total_cents - found.dispute_lost_cents)
    if refunded >= found.total_cents and found.total_cents > 0:
        target = S.REFUNDED
    else:
        target = S.PARTIALLY_REFUNDED if refunded > 0 else S.PAID
    if target == found.status:
        _update_one(order_id, [Order.status == str(target)], refunded_cents=refunded)
    else:
        only_from = [OrderStatus(found.status)]
        move(order_id, target, origin, only_from=only_from, note=note, refunds=True,
             refunded_cents=refunded)  # fmt: skip
    return True


def _update_one(order_id: int, conditions: Iterable, **values) -> bool:
    """UPDATE the order with `values` (and a new `updated_at`) only where `conditions` hold;
    True if it matched (then this transaction holds the row until it ends)."""
    statement = (
        update(Order)
        .where(Order.id == order_id, *conditions)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1


def record(order_id: int, kind: str, origin: Origin, note: str = "") -> None:
    """Add an entry to an order's timeline (the caller commits it with the change)."""
    db.session.add(
        OrderEvent(
            order_id=order_id,
            at=utcnow(),
            kind=kind,
            source=str(origin.source),
            reference=origin.reference,
            actor_id=origin.actor_id,
            note=note,
        )
    )
