"""The emulator's state changes, each in a short transaction of its own.

The emulator plays a remote system: its writes must not ride on the caller's
`db.session` transaction (a rollback in the shop does not undo a Stripe session),
so every function here works on a `Session` from `transaction()`.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from sqlalchemy import Engine, Select, create_engine, event, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from ...extensions import db
from . import errors, pricing, shapes, shipping
from .models import EmulatorSession

KIND = "checkout.session"
#: Connections the emulator keeps, and may add, per process: its own pool, never the shop's.
POOL_SIZE, MAX_OVERFLOW = 2, 10


def engine() -> Engine:
    """The emulator's own engine on the shop's database, made once per app.

    Stripe is a remote system with its own resources. Sharing the shop's pool would let
    requests that hold a shop connection while calling "Stripe" in-process wait on each
    other for a second one, until the pool times out (a click storm on `make run` did).
    """
    app = current_app._get_current_object()
    found = app.extensions.get("stripe_emulator_engine")
    if found is None:
        found = app.extensions["stripe_emulator_engine"] = _make_engine(db.engine)
    return found


def _make_engine(shop: Engine) -> Engine:
    """A small pool on the same database as `shop`, disposed whenever `shop` is."""
    if shop.url.database in (None, "", ":memory:"):
        return shop  # one in-memory SQLite database lives in one connection: share it
    options = dict(current_app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    options.update(pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)
    own = create_engine(shop.url, **options)
    created_in = os.getpid()

    @event.listens_for(shop, "engine_disposed")
    def follow(_engine: Engine) -> None:
        """Dispose with the shop's engine; after a fork, drop inherited connections unclosed."""
        own.dispose(close=os.getpid() == created_in)

    return own


@contextmanager
def transaction() -> Iterator[Session]:
    """A session on its own connection, committed when the block ends without error."""
    with Session(engine(), expire_on_commit=False) as session, session.begin():
        yield session


def create_session(
    s: Session, values: dict[str, Any], page_url: Callable[[str], str], now: int
) -> EmulatorSession:
    """Store a new open, unpaid session from validated `values` (its lines' `tax_rates`
    and its `discount` already looked up: `promotions.session_discount`)."""
    session_id = shapes.new_id("cs_test_", 58)
    discount = values.get("discount")
    priced = pricing.price(values["lines"], discount["snapshot"] if discount else None)
    lines = [
        {
            **line,
            "id": shapes.new_id("li_"),
            "price_id": shapes.new_id("price_"),
            "product_id": shapes.new_id("prod_"),
        }
        for line in priced["lines"]
    ]
    offered = values["shipping"]
    if offered:
        offered = {**offered, "options": [
            {**rate, "id": shapes.new_id("shr_")} for rate in offered["options"]
        ]}  # fmt: skip
    row = EmulatorSession(
        id=session_id,
        status="open",
        payment_status="unpaid",
        mode="payment",
        currency=values["currency"],
        amount_subtotal=priced["amount_subtotal"],
        amount_total=priced["items_total"] + shipping.shipping_amount(offered),
        amount_discount=priced["amount_discount"],
        amount_tax=priced["amount_tax"],
        discount=discount,
        allow_promotion_codes=values["discounts"]["allow"],
        automatic_tax=values["automatic_tax"],
        line_items=lines,
        shipping=offered,
        payment_method_types=values["payment_method_types"],
        success_url=values["success_url"],
        cancel_url=values["cancel_url"],
        client_reference_id=values["client_reference_id"],
        customer_email=values["customer_email"],
        customer=values.get("customer"),
        save_card_offered=values.get("save_card_offered", False),
        locale=values.get("locale"),
        meta=values["metadata"],
        url=page_url(session_id),
        created=now,
        expires_at=values["expires_at"],
    )
    s.add(row)
    s.flush()
    return row


def fetch(s: Session, column: Any, value: Any, kind: str, param: str = "id") -> Any:
    """The row whose `column` equals `value`, read afresh, or Stripe's 404 for a `kind`."""
    row = s.scalar(
        select(column.class_).where(column == value).execution_options(populate_existing=True)
    )
    if row is None:
        raise errors.no_such(kind, value, param)
    return row


def get_session(s: Session, session_id: str, param: str = "id") -> EmulatorSession:
    """The session with this id, or Stripe's 404."""
    return fetch(s, EmulatorSession.id, session_id, KIND, param)


def _status_filter(status: str, now: int):
    """SQL for the effective status, counting overdue open sessions as expired."""
    overdue = (EmulatorSession.status == "open") & (EmulatorSession.expires_at <= now)
    if status == "open":
        return (EmulatorSession.status == "open") & (EmulatorSession.expires_at > now)
    if status == "expired":
        return or_(EmulatorSession.status == "expired", overdue)
    return EmulatorSession.status == status


def created_filter(column, bounds: dict[str, int]):
    """SQL conditions for a `created` filter (`eq`, `gt`, `gte`, `lt`, `lte`)."""
    operators = {
        "eq": column.__eq__, "gt": column.__gt__, "gte": column.__ge__,
        "lt": column.__lt__, "lte": column.__le__,
    }  # fmt: skip
    return [operators[op](bound) for op, bound in bounds.items()]


def keyset_page(
    s: Session, stmt: Select, order: tuple, cursor: Callable[[str, str], tuple], query: dict
) -> tuple[list, bool]:
    """A page of `stmt` newest first by the `order` columns, after or before a cursor id
    (`cursor(id, param)` gives that row's `order` values); and whether more exist."""
    key = tuple_(*order)
    newest_first = True
    if query["starting_after"]:
        stmt = stmt.where(key < tuple_(*cursor(query["starting_after"], "starting_after")))
    elif query["ending_before"]:
        stmt = stmt.where(key > tuple_(*cursor(query["ending_before"], "ending_before")))
        newest_first = False
    direction = [c.desc() if newest_first else c.asc() for c in order]
    rows = list(s.scalars(stmt.order_by(*direction).limit(query["limit"] + 1)))
    has_more = len(rows) > query["limit"]
    rows = rows[: query["limit"]]
    return (rows if newest_first else rows[::-1]), has_more


def list_sessions(s: Session, query: dict[str, Any], now: int) -> tuple[list, bool]:
    """A page of sessions, newest first, filtered as `query` says; and whether more exist."""
    stmt = select(EmulatorSession).where(*created_filter(EmulatorSession.created, query["created"]))
    if query["status"]:
        stmt = stmt.where(_status_filter(query["status"], now))
    if query["email"]:
        stmt = stmt.where(func.lower(EmulatorSession.customer_email) == query["email"].lower())
    if query["payment_intent"]:
        stmt = stmt.where(EmulatorSession.payment_intent == query["payment_intent"])

    def cursor(session_id: str, param: str) -> tuple:
        """The position of the session a cursor names."""
        return (get_session(s, session_id, param).pk,)

    return keyset_page(s, stmt, (EmulatorSession.pk,), cursor, query)


def count_sessions(s: Session, status: str | None, now: int) -> int:
    """How many sessions exist (with this effective status)."""
    stmt = select(func.count()).select_from(EmulatorSession)
    if status:
        stmt = stmt.where(_status_filter(status, now))
    return s.scalar(stmt) or 0


def _transition(s: Session, session_id: str, now: int, **values: Any) -> EmulatorSession:
    """Move an open, unexpired session on; refuse (writing nothing) in any other state.

    Lock: one UPDATE ... WHERE status = 'open'; a racing payment and expiry cannot both win.
    """
    changed = s.execute(
        update(EmulatorSession)
        .where(
            EmulatorSession.id == session_id,
            EmulatorSession.status == "open",
            EmulatorSession.expires_at > now,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    row = get_session(s, session_id)
    if not changed:
        raise errors.ApiError(
            'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f"Session has a status of `{shapes.effective_status(row, now)}`."
            if values.get("status") == "expired"
            else f"This Checkout Session is {shapes.effective_status(row, now)}.",
        )
    return row


def expire_session(s: Session, session_id: str, now: int) -> EmulatorSession:
    """Expire an open session (the API's expire, or `flask emulator expire-due`)."""
    return _transition(s, session_id, now, status="expired")


def complete_session(
    s: Session, session_id: str, now: int, collected: dict[str, Any] | None = None
) -> EmulatorSession:
    """Mark an open session paid, with its PaymentIntent (made now unless a declined
    attempt made one already), and the address and rate the page `collected`: the total
    is the items plus the rate picked. A session that comes to nothing (a 100% code, free
    shipping) needs no payment, and gets no PaymentIntent, as at Stripe."""
    row = get_session(s, session_id)
    values: dict[str, Any] = {}
    total = row.amount_total
    if collected is not None:
        shipped = {**row.shipping, "collected": collected}
        values["shipping"] = shipped
        total = items_total(row) + shipping.shipping_amount(shipped)
        values["amount_total"] = total
    if total == 0:
        values["payment_status"] = "no_payment_required"
    else:
        values["payment_status"] = "paid"
        values["payment_intent"] = func.coalesce(
            EmulatorSession.payment_intent, shapes.new_id("pi_")
        )
    return _transition(s, session_id, now, status="complete", **values)


def expire_overdue(s: Session, session_id: str, now: int) -> EmulatorSession | None:
    """Store `expired` on a session that read as expired already; None if it moved on."""
    # Lock: guarded UPDATE ... WHERE status = 'open'; a payment that got in first stays.
    changed = s.execute(
        update(EmulatorSession)
        .where(
            EmulatorSession.id == session_id,
            EmulatorSession.status == "open",
            EmulatorSession.expires_at <= now,
        )
        .values(status="expired")
        .execution_options(synchronize_session=False)
    ).rowcount
    return get_session(s, session_id) if changed else None


def overdue_session_ids(s: Session, now: int) -> list[str]:
    """Ids of sessions still stored as open although `expires_at` has passed."""
    stmt = select(EmulatorSession.id).where(
        EmulatorSession.status == "open", EmulatorSession.expires_at <= now
    )
    return list(s.scalars(stmt.order_by(EmulatorSession.pk)))


def items_total(row: EmulatorSession) -> int:
    """What the items cost the customer: the subtotal less the discount plus exclusive tax."""
    return row.amount_total - shipping.shipping_amount(row.shipping)


def apply_discount(s: Session, row: EmulatorSession, discount: dict[str, Any]) -> EmulatorSession:
    """Price an open session again with a code the customer typed on the hosted page."""
    priced = pricing.price(row.line_items, discount["snapshot"])
    row.line_items = [
        {**line, "amount_discount": new["amount_discount"], "amount_tax": new["amount_tax"]}
        for line, new in zip(row.line_items, priced["lines"], strict=True)
    ]
    row.discount = discount
    row.amount_discount, row.amount_tax = priced["amount_discount"], priced["amount_tax"]
    row.amount_total = priced["items_total"] + shipping.shipping_amount(row.shipping)
    s.flush()
    return row
