"""Stock holds: units held for an order's Checkout Session, released, sold or returned.

Orders own the holds (an order's `stock_hold` says where its units stand); the catalogue
owns the counters they move (`products.stock` and `products.reserved`) and the products'
history (`shop.catalog.history`).

Every change is one guarded statement, never a read-then-write:

- hold: `UPDATE products SET reserved = reserved + q WHERE id = ? AND (stock IS NULL OR
  stock - reserved >= q)`, line by line in product order, inside the transaction that
  claims the customer's pending slot. A line that does not fit matches no row; the caller
  rolls the whole claim back. PostgreSQL re-checks the condition on a row another claim
  just changed, so two claims for the last unit cannot both succeed.
- release and sell follow the order's `stock_hold` (held -> released | sold; released ->
  sold_late), each a guarded `UPDATE orders ... WHERE stock_hold = ?`: of two racing calls
  only one moves the hold, so only one changes the counters.

Untracked products (stock empty) count their holds too, so every hold is undone exactly;
their stock stays empty. The caller commits, with the order change that caused it.
"""

from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import ScalarSelect, func, select, update

from .. import metrics
from ..catalog.history import record
from ..catalog.models import Product
from ..extensions import db
from .models import Order, OrderItem, StockHold


class Shortage(Exception):
    """A line wants more units than are available; nothing was held."""

    def __init__(self, name: str, available: int):
        super().__init__(name, available)
        self.name = name
        self.available = available

    def __str__(self) -> str:
        if self.available <= 0:
            return gettext("%(name)s is sold out; remove it from your cart to check out.",
                           name=self.name)  # fmt: skip
        return gettext(
            "Only %(num)d of %(name)s left; lower the quantity in your cart to check out.",
            num=self.available,
            name=self.name,
        )


@dataclass(frozen=True)
class Change:
    """What a release or a sale did, so the caller can say so on the order's timeline."""

    kind: str  # "released", "sold" or "sold_late"
    note: str


def _lines(order_id: int) -> list[tuple[int, int]]:
    """(product id, quantity) of an order, in product order: the lock order of every change."""
    rows = db.session.execute(
        select(OrderItem.product_id, OrderItem.quantity)
        .where(OrderItem.order_id == order_id)
        .order_by(OrderItem.product_id)
    )
    return [(product_id, quantity) for product_id, quantity in rows]


H = StockHold
#: The stock hold's machine, declared once: each move, and what it does to the counters of
#: each of the order's lines, as (stock, reserved) directions by the line's quantity.
#: `_follow` makes the moves (`hold` makes the first one line by line, with its guard).
HOLD_MOVES: dict[tuple[StockHold, StockHold], tuple[int, int]] = {
    (H.NONE, H.HELD): (0, +1),
    (H.HELD, H.RELEASED): (0, -1),
    (H.HELD, H.SOLD): (-1, -1),
    (H.RELEASED, H.SOLD_LATE): (-1, 0),
    (H.SOLD, H.RETURNED): (+1, 0),
    (H.SOLD_LATE, H.RETURNED): (+1, 0),
}


def _follow(order_id: int, *moves: tuple[StockHold, StockHold]):
    """Make the first of `moves` ((source, target)) the order's hold allows, and move its
    lines' counters as HOLD_MOVES says: (target, lines), or None when the hold was in none
    of the sources (another call moved it first, or it never applied)."""
    for source, target in moves:
        if _move_hold(order_id, source, target):
            stock, reserved = HOLD_MOVES[source, target]
            return target, _shift(order_id, stock=stock, reserved=reserved)
    return None


def _move_hold(order_id: int, source: StockHold, target: StockHold) -> bool:
    """Move an order's hold from `source` to `target` (a move of HOLD_MOVES); True if this
    call moved it."""
    if (source, target) not in HOLD_MOVES:
        raise ValueError(f"a stock hold never moves from {source} to {target}")
    # Lock: guarded UPDATE ... WHERE stock_hold = source; racing callers: one matches.
    moved = db.session.execute(
        update(Order)
        .where(Order.id == order_id, Order.stock_hold == str(source))
        .values(stock_hold=str(target))
        .execution_options(synchronize_session=False)
    ).rowcount
    return moved == 1


def _shift(order_id: int, stock: int = 0, reserved: int = 0) -> list[tuple[int, int]]:
    """Move each of the order's lines into or out of the counters: `stock` and `reserved`
    are the direction (+1, -1 or 0) each counter moves by the line's quantity. Only the
    caller that just moved the order's hold calls this. The order's lines, in lock order."""
    lines = _lines(order_id)
    for product_id, quantity in lines:
        changes = {}
        if stock:
            changes["stock"] = Product.stock + stock * quantity
        if reserved:
            changes["reserved"] = Product.reserved + reserved * quantity
        # Lock: the product row; the hold was moved by exactly one caller, just before.
        db.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(**changes)
            .execution_options(synchronize_session=False)
        )
    return lines


def hold(order_id: int, lines: list[tuple[int, int]]) -> None:
    """Reserve `lines` ((product id, quantity)) for a freshly claimed order, or raise
    `Shortage` for the first line that does not fit (the caller rolls back the claim)."""
    for product_id, quantity in sorted(lines):
        # Lock: the product row, by a conditional UPDATE; taken in product order by every
        # claim, so two claims wanting the same products cannot deadlock.
        held = db.session.execute(
            update(Product)
            .where(
                Product.id == product_id,
                (Product.stock.is_(None)) | (Product.unheld >= quantity),
            )
            .values(reserved=Product.reserved + quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
        if held != 1:
            name, stock, reserved = db.session.execute(
                select(Product.name, Product.stock, Product.reserved).where(
                    Product.id == product_id
                )
            ).one()
            raise Shortage(name, (stock or 0) - reserved)
    _move_hold(order_id, StockHold.NONE, StockHold.HELD)
    _count("held", lines)


def release(order_id: int) -> Change | None:
    """Give back what an order held (it expired, was cancelled, failed or was replaced)."""
    moved = _follow(order_id, (H.HELD, H.RELEASED))
    if moved is None:
        return None
    target, lines = moved
    _count(str(target), lines)
    return Change(str(target), _units(lines))


def sell(order_id: int) -> Change | None:
    """The order is paid: its held units are sold. A payment that arrives after the hold
    was released still takes its units (stock may go below zero): money is never refused."""
    moved = _follow(order_id, (H.HELD, H.SOLD), (H.RELEASED, H.SOLD_LATE))
    if moved is None:
        return None
    target, lines = moved
    _count(str(target), lines)
    return Change(str(target), _units(lines))


def return_units(order_id: int, actor_id: int | None) -> Change | None:
    """Put a refunded order's sold units back on hand (an admin ticked "return to stock"),
    once: the hold moves from sold (or sold late) to returned."""
    moved = _follow(order_id, (H.SOLD, H.RETURNED), (H.SOLD_LATE, H.RETURNED))
    if moved is None:
        return None
    _, lines = moved
    for product_id, quantity in lines:
        record(product_id, "stock_returned", actor_id, f"{quantity} back from order #{order_id}")
    return Change("returned", _units(lines))


def _count(change: str, lines: list[tuple[int, int]]) -> None:
    """Count the units of a hold, release or sale once its transaction commits (a claim
    rolled back for a shortage held nothing)."""
    metrics.on_commit(metrics.STOCK_UNITS.labels(change=change), sum(q for _, q in lines))


def _units(lines: list[tuple[int, int]]) -> str:
    """`3 units of 2 products`, for the timeline."""
    units = sum(quantity for _, quantity in lines)
    return f"{units} unit{'s' if units != 1 else ''} of {len(lines)} product" + (
        "s" if len(lines) != 1 else ""
    )


def reserved_units() -> ScalarSelect:
    """Units held by open Checkout Sessions, over every product (a small table)."""
    return select(func.coalesce(func.sum(Product.reserved), 0)).scalar_subquery()


def readings() -> list[metrics.Reading]:
    """What /metrics reads from stock at each scrape."""
    return [
        metrics.Reading(
            "shop_stock_reserved_units",
            "Units held by open Checkout Sessions, not yet sold or released.",
            reserved_units,
        )
    ]


def own_hold(user_id, product_id) -> ScalarSelect:
    """SQL for the units of `product_id` (a column or a value) that `user_id`'s own open
    checkout holds. The cart counts them as left for that customer (they are theirs), and
    is handed this function at start-up, since it cannot import orders."""
    return (
        select(func.coalesce(func.sum(OrderItem.quantity), 0))
        .join(Order, Order.id == OrderItem.order_id)
        .where(
            Order.user_id == user_id,
            Order.stock_hold == StockHold.HELD,
            OrderItem.product_id == product_id,
        )
        .scalar_subquery()
    )
