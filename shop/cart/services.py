"""Cart rules: one cart per user, lines changed in single SQL statements, totals in cents.

Every mutation is one statement the database applies atomically (no read-modify-write in
Python), so concurrent requests of the same customer lose nothing. Each owns its commit and
returns the cart as it stands afterwards, loaded with one query.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    Integer,
    ScalarSelect,
    bindparam,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from ..auth.models import User
from ..auth.sessions import user_row_locked
from ..catalog.models import Product, ProductPrice, shown
from ..catalog.services import LANGUAGES
from ..extensions import db
from ..models import ID_MAX, UTCDateTime, utcnow
from .models import CartCode, CartItem

#: Most distinct products one cart may hold.
MAX_LINES = 50


class CartError(Exception):
    """The cart was left unchanged; the message is for the customer."""


class ProductUnavailable(CartError):
    """The product does not exist or is no longer sold."""


class CartFull(CartError):
    """A new line would exceed MAX_LINES distinct products."""


class LineMissing(CartError):
    """The product is not (or no longer) in the cart."""


class SoldOut(CartError):
    """The product's stock is tracked and none is left to add."""


class NotSoldIn(CartError):
    """The product has no price in the cart's currency."""


#: How each refusal is answered, by the pages and the JSON API alike: the product is gone
#: (404), it cannot be had now (409), or the input is not acceptable (422, the rest).
REFUSAL_STATUS = {ProductUnavailable: 404, LineMissing: 404, SoldOut: 409, NotSoldIn: 409}


def not_sold_in(name: str, currency: str) -> str:
    """Why a product cannot be added in this currency (the cart and the visitor's cart)."""
    return _("%(name)s is not sold in %(currency)s; switch currency to buy it.", name=name,
             currency=currency.upper())  # fmt: skip


def sold_out(name: str) -> str:
    return _("%(name)s is sold out.", name=name)


def cart_full() -> str:
    return _("Your cart already holds %(num)d different products; remove one before adding "
             "another.", num=MAX_LINES)  # fmt: skip


def refusal_status(error: Exception) -> int:
    """The HTTP status of a refused change."""
    return REFUSAL_STATUS.get(type(error), 422)


@dataclass(frozen=True, slots=True)
class CartProduct:
    """What the cart shows and prices of a product (a snapshot, not a mapped instance)."""

    id: int
    name: str
    image: str
    active: bool
    stock: int | None
    #: Its price in the cart's currency; None when it is not sold in it.
    price_cents: int | None
    currency: str
    sku: str = ""

    @property
    def priced(self) -> bool:
        """Sold in the cart's currency."""
        return self.price_cents is not None


@dataclass(frozen=True)
class CartLine:
    """A product in the cart, priced now in the cart's currency; unavailable lines (no
    longer sold, or not sold in that currency) count for nothing.

    `units_left` is how many this customer can have of a tracked product (None: not
    tracked): what is on hand, less what other customers' checkouts hold.
    """

    product: CartProduct
    quantity: int
    available: bool
    line_total_cents: int
    units_left: int | None = None

    @property
    def short(self) -> bool:
        """More in the cart than is left (sold out, or sold down since it was added)."""
        return self.available and self.units_left is not None and self.quantity > self.units_left


@dataclass(frozen=True)
class Cart:
    """A customer's cart with totals computed from current prices, in integer minor units
    of its one currency (the customer's: switching re-prices every line)."""

    lines: tuple[CartLine, ...]
    subtotal_cents: int
    currency: str
    count: int
    has_unavailable: bool
    #: The name of the product the change that returned this cart took out of it, if any.
    removed: str | None = None
    #: The promotion code typed into the cart, as typed (None: none, or an empty cart).
    code: str | None = None

    @property
    def is_empty(self) -> bool:
        """True when the cart has no lines at all."""
        return not self.lines

    @property
    def can_check_out(self) -> bool:
        """True when there is something to buy and every line can still be bought."""
        return not self.is_empty and not self.has_unavailable and not self.has_short

    @property
    def has_short(self) -> bool:
        """Some line wants more units than are left."""
        return any(line.short for line in self.lines)

    def line_for(self, product_id: int) -> CartLine | None:
        """The line holding `product_id`, if any."""
        return next((line for line in self.lines if line.product.id == product_id), None)


def price_in(product_id, currency):
    """SQL for the product's price in `currency` (NULL when it is not sold in it)."""
    return (
        select(ProductPrice.price_cents)
        .where(ProductPrice.product_id == product_id, ProductPrice.currency == currency)
        .scalar_subquery()
    )


#: SQL for the units of a product one customer's own open checkout holds: they are the
#: customer's, so they count as left for that customer. The holds belong to orders, which
#: build on the cart, so the cart cannot import them: `shop.create_app` hands the cart
#: orders' own `stock.own_hold` at start-up (`count_own_holds_with`).
_own_hold: Callable[[Any, Any], ScalarSelect] | None = None


def count_own_holds_with(own_hold: Callable[[Any, Any], ScalarSelect]) -> None:
    """Use `own_hold(user_id, product_id)` as the SQL of a customer's own held units."""
    global _own_hold
    _own_hold = own_hold


def units_left(user_id: int, product_id):
    """SQL for how many units of a tracked product this customer can have."""
    if _own_hold is None:
        raise RuntimeError("the cart needs orders' own_hold: create the app first")
    return Product.unheld + _own_hold(user_id, product_id)


@cache
def _cart_statement(language: str = "en"):
    """The cart's lines with their products (named in `language`) and what is left of each,
    oldest line first, built once per language with the user as a bound parameter."""
    user_id = bindparam("user_id", type_=Integer())
    currency = bindparam("currency")
    return (
        select(
            CartItem.quantity,
            Product.id,
            shown("name", language),
            Product.image,
            Product.active,
            Product.stock,
            ProductPrice.price_cents,
            units_left(user_id, CartItem.product_id),
            select(CartCode.code).where(CartCode.user_id == user_id).scalar_subquery(),
            Product.sku,
        )
        .join(CartItem.product)
        .outerjoin(
            ProductPrice,
            (ProductPrice.product_id == Product.id) & (ProductPrice.currency == currency),
        )
        .where(CartItem.user_id == user_id)
        .order_by(CartItem.id)
    )


def load_cart(user_id: int, currency: str, language: str = "en") -> Cart:
    """The user's cart priced in `currency`, its products named in `language`: lines,
    products and what is left of each, in one query.

    Plain rows, not ORM objects: the cart is read to be shown or priced, never changed
    through them, and building mapped instances cost more than the query.
    """
    rows = (
        db.session.connection()
        .execute(_cart_statement(_language(language)), {"user_id": user_id, "currency": currency})
        .all()
    )
    lines = tuple(
        CartLine(
            product=(product := CartProduct(*columns, currency, sku)),
            quantity=quantity,
            available=(sellable := product.active and product.priced),
            line_total_cents=product.price_cents * quantity if sellable else 0,
            units_left=None if product.stock is None else max(left, 0),
        )
        for quantity, *columns, left, _code, sku in rows
    )
    return Cart(
        lines=lines,
        subtotal_cents=sum(line.line_total_cents for line in lines),
        currency=currency,
        count=sum(line.quantity for line in lines),
        has_unavailable=any(not line.available for line in lines),
        code=rows[0][-2] if rows else None,
    )


def _language(language: str) -> str:
    """A language the catalogue has names in (anything else reads English)."""
    return language if language in LANGUAGES else LANGUAGES[0]


def units_in_cart(line=CartItem, user_id=None):
    """SQL for the units in one user's cart (the header badge): the one definition, for
    `COUNT_UNITS` and for the add's totals (which read the cart through an alias `line`)."""
    user_id = bindparam("user_id", type_=Integer()) if user_id is None else user_id
    return select(func.coalesce(func.sum(line.quantity), 0)).where(line.user_id == user_id)


#: Units in one user's cart. Built once: it runs on every page (the header badge), and
#: building a statement costs about as much as running it.
COUNT_UNITS = units_in_cart()


def count_units(user_id: int) -> int:
    """Units in the user's cart (the header badge), in one query."""
    return db.session.scalar(COUNT_UNITS, {"user_id": user_id})


def _lock_cart(user_id: int) -> None:
    """Serialise this user's adds on PostgreSQL by locking their users row until commit.

    Without it, two adds of different new products under READ COMMITTED could each see 49
    lines and both insert. SQLite needs nothing: its single writer holds the database from
    the INSERT's start, so the statement's line count cannot go stale. FOR NO KEY UPDATE
    leaves inserts referencing the user (their own foreign-key checks) unblocked.
    """
    if db.session.get_bind().dialect.name == "postgresql" and not user_row_locked(user_id):
        # Lock: SELECT ... FOR NO KEY UPDATE on the user's row, held until this add commits
        # (unless the request read its signed-in user so, in this transaction).
        db.session.execute(
            select(User.id).where(User.id == user_id).with_for_update(key_share=True)
        )


@dataclass(frozen=True)
class Added:
    """What an add left, for the card's note and the badge: the line, the product's name and
    what is left of it, and the cart's totals (the same figures `load_cart` would give)."""

    #: Units on the line now.
    quantity: int
    name: str
    #: How many this customer can have of a tracked product (None: not tracked).
    units_left: int | None
    count: int
    subtotal_cents: int
    currency: str

    @property
    def is_empty(self) -> bool:
        """True when the cart has no lines (every line holds at least one unit)."""
        return self.count == 0


class _Qualified(ColumnElement):
    """A subquery that keeps its table-qualified column names inside a RETURNING clause,
    where SQLAlchemy's SQLite compiler drops them for every column it renders (so `id`
    in a subquery over two tables would be ambiguous)."""

    inherit_cache = True
    _traverse_internals = [("inner", InternalTraversal.dp_clauseelement)]

    def __init__(self, inner) -> None:
        self.inner = inner
        self.type = inner.type


@compiles(_Qualified)
def _compile_qualified(element: _Qualified, compiler, **kw) -> str:
    kw["include_table"] = True
    return compiler.process(element.inner, **kw)


@cache
def _add_statement(dialect: str, language: str = "en"):
    """The add's one statement for `dialect`, built once per language with bound
    parameters: building and cache-keying it per request cost more than running it.

    Both say what the add left (`Added`): the line, the product named in `language` and
    what is left of it, and the cart's units and subtotal as the other lines' sums plus this
    line. Other lines, because PostgreSQL's subqueries read the cart as it was when the
    statement began (SQLite's read it after): either way the sums are the same.
    """
    if dialect == "postgresql":
        return _add_statement_postgresql(language)
    return _add_statement_sqlite(language)


class _AddParams:
    """The add's bound parameters, shared by both dialects' statements."""

    user_id = bindparam("user_id", type_=Integer())
    product_id = bindparam("product_id", type_=Integer())
    quantity = bindparam("quantity", type_=Integer())
    max_quantity = bindparam("max_quantity", type_=Integer())
    currency = bindparam("currency")
    now = bindparam("now", type_=UTCDateTime())


def _line_cap(stock, left):
    """SQL for the most the line may hold: the per-line maximum, or fewer if fewer are left
    of a tracked product."""
    most = _AddParams.max_quantity
    return case((stock.is_(None), most), (left < most, left), else_=most)


def _room_for_line():
    """SQL: the line exists already, or the cart has room for another."""
    p = _AddParams
    line_exists = exists().where(CartItem.user_id == p.user_id, CartItem.product_id == p.product_id)
    line_count = (
        select(func.count()).select_from(CartItem).where(CartItem.user_id == p.user_id)
    ).scalar_subquery()
    return or_(line_exists, line_count < MAX_LINES)


def _other_lines():
    """SQL for the units and the subtotal of the cart's lines other than the one added,
    through aliases that must not correlate with the row the add returns."""
    p = _AddParams
    line, product, price = aliased(CartItem), aliased(Product), aliased(ProductPrice)
    others = (line.user_id == p.user_id) & (line.product_id != p.product_id)
    units = units_in_cart(line, p.user_id).where(line.product_id != p.product_id)
    subtotal = (
        select(func.coalesce(func.sum(price.price_cents * line.quantity), 0))
        .select_from(line)
        .join(product, product.id == line.product_id)
        .join(price, (price.product_id == product.id) & (price.currency == p.currency))
        .where(others, product.active)
    )
    return units.scalar_subquery(), subtotal.scalar_subquery()


def _add_statement_postgresql(language: str):
    """WITH product (what is left, the cap, the name and price, read once) , added (INSERT
    ... SELECT ... ON CONFLICT DO UPDATE ... RETURNING) SELECT the summary.

    The units left are a subquery over open orders' holds: computed once in the
    materialised `product`, not once per place that needs them (the cap, the filter, the
    conflict branch and the summary), which made the add's plan four times as large."""
    p = _AddParams
    left = units_left(p.user_id, Product.id)
    product = (
        select(
            Product.id,
            Product.stock,
            left.label("left"),
            shown("name", language).label("name"),
            price_in(Product.id, p.currency).label("price_cents"),
        )
        .where(Product.id == p.product_id, Product.active)
        .cte("product")
        .prefix_with("MATERIALIZED")
    )
    cap = _line_cap(product.c.stock, product.c.left)
    source = select(p.user_id, product.c.id, func.least(p.quantity, cap), p.now, p.now).where(
        product.c.price_cents.is_not(None),
        or_(product.c.stock.is_(None), product.c.left > 0),
        _room_for_line(),
    )
    table = CartItem.__table__
    insert = postgresql.insert(table).from_select(
        ["user_id", "product_id", "quantity", "created_at", "updated_at"], source
    )
    added = (
        insert.on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.product_id],
            set_={
                "quantity": func.least(
                    table.c.quantity + insert.excluded.quantity,
                    select(cap).select_from(product).scalar_subquery(),
                ),
                "updated_at": insert.excluded.updated_at,
            },
        )
        .returning(table.c.quantity)
        .cte("added")
    )
    other_units, other_subtotal = _other_lines()
    return select(
        added.c.quantity,
        product.c.name,
        case((product.c.stock.is_(None), None), else_=product.c.left),
        other_units + added.c.quantity,
        other_subtotal + added.c.quantity * product.c.price_cents,
    ).select_from(added.join(product, true()))


def _add_statement_sqlite(language: str):
    """INSERT ... SELECT ... ON CONFLICT DO UPDATE ... RETURNING: SQLite has no INSERT in a
    WITH, so what is left is written out where it is needed (a single writer, and a small
    database: each copy costs little)."""
    p = _AddParams
    left = units_left(p.user_id, Product.id)
    cap = _line_cap(Product.stock, left)
    source = select(
        p.user_id, Product.id, case((p.quantity > cap, cap), else_=p.quantity), p.now, p.now
    ).where(
        Product.id == p.product_id,
        Product.active,
        price_in(Product.id, p.currency).is_not(None),
        or_(Product.stock.is_(None), left > 0),
        _room_for_line(),
    )
    table = CartItem.__table__
    statement = sqlite.insert(table).from_select(
        ["user_id", "product_id", "quantity", "created_at", "updated_at"], source
    )
    added = table.c.quantity + statement.excluded.quantity
    line_cap = select(cap).where(Product.id == p.product_id).scalar_subquery()
    other_units, other_subtotal = _other_lines()
    this_product = (Product.id == p.product_id,)
    return statement.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.product_id],
        set_={
            "quantity": case((added > line_cap, line_cap), else_=added),
            "updated_at": statement.excluded.updated_at,
        },
    ).returning(
        table.c.quantity,
        _Qualified(select(shown("name", language)).where(*this_product).scalar_subquery()),
        _Qualified(
            select(case((Product.stock.is_(None), None), else_=left))
            .where(*this_product)
            .scalar_subquery()
        ),
        _Qualified(other_units) + table.c.quantity,
        _Qualified(other_subtotal)
        + table.c.quantity * _Qualified(price_in(p.product_id, p.currency)),
    )


def add_item(
    user_id: int,
    product_id: int,
    quantity: int,
    max_quantity: int,
    currency: str,
    language: str = "en",
) -> Added:
    """Add `quantity` units of an active product sold in `currency` (the cart's); a line is
    capped at `max_quantity` and at what is left of a tracked product; a sold-out product is
    refused (`SoldOut`), one without a price in `currency` too (`NotSoldIn`).

    One INSERT ... SELECT ... ON CONFLICT DO UPDATE statement: the SELECT yields a row only
    for an active product with units left, when the line exists or the cart has room for
    another; both branches add in the database, capped with CASEs that both dialects know.
    Its RETURNING says what the add left.
    """
    if product_id > ID_MAX:
        raise ProductUnavailable(_("That product is not available."))
    dialect = db.session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"the cart needs PostgreSQL or SQLite, not {dialect}")
    _lock_cart(user_id)
    now = utcnow()
    params = {
        "user_id": user_id,
        "product_id": product_id,
        "quantity": quantity,
        "max_quantity": max_quantity,
        "currency": currency,
        "now": now,
    }
    # A Core statement on the session's connection (its transaction): the ORM's execute
    # path has nothing to add to it but overhead.
    # Lock: unique (user_id, product_id) + ON CONFLICT row lock: racing adds to a line queue.
    row = (
        db.session.connection()
        .execute(_add_statement(dialect, _language(language)), params)
        .first()
    )
    if row is None:
        db.session.rollback()
        raise _why_not_added(user_id, product_id, currency, language)
    db.session.commit()
    line_quantity, name, left, count, subtotal = row
    return Added(
        quantity=line_quantity,
        name=name,
        units_left=None if left is None else max(left, 0),
        count=count,
        subtotal_cents=subtotal,
        currency=currency,
    )


def _why_not_added(user_id: int, product_id: int, currency: str, language: str) -> CartError:
    """Tell an unavailable product, one not sold in the cart's currency, a sold-out one and
    a full cart apart after the add inserted nothing."""
    found = db.session.execute(
        select(
            Product.active,
            shown("name", _language(language)).label("name"),
            Product.stock,
            units_left(user_id, Product.id),
            price_in(Product.id, currency),
        ).where(Product.id == product_id)
    ).first()
    if found is None or not found.active:
        return ProductUnavailable(_("That product is not available."))
    if found[4] is None:
        return NotSoldIn(not_sold_in(found.name, currency))
    if found.stock is not None and found[3] <= 0:
        return SoldOut(sold_out(found.name))
    return CartFull(cart_full())


def set_quantity(
    user_id: int, product_id: int, quantity: int, currency: str, language: str = "en"
) -> Cart:
    """Set a line to `quantity` (the caller checked the range); 0 removes the line. The cart
    comes back priced in `currency`."""
    if quantity == 0:
        return remove_item(user_id, product_id, currency, language)
    changed = 0
    if product_id <= ID_MAX:
        # Lock: one UPDATE's row lock; a line removed meanwhile matches nothing (LineMissing).
        changed = db.session.execute(
            update(CartItem)
            .where(CartItem.user_id == user_id, CartItem.product_id == product_id)
            .values(quantity=quantity, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    if not changed:
        db.session.rollback()
        raise LineMissing(_("That product is no longer in your cart."))
    db.session.commit()
    return load_cart(user_id, currency, language)


def remove_item(user_id: int, product_id: int, currency: str, language: str = "en") -> Cart:
    """Remove a line; removing one that is not there is fine (idempotent). The cart says
    which product went (`removed`) when this call took a line out."""
    removed = None
    if product_id <= ID_MAX:
        # The product's name comes back with the DELETE itself: no read before it.
        name = (
            select(Product.name)
            .where(Product.id == CartItem.product_id)
            .correlate(CartItem)
            .scalar_subquery()
        )
        # Lock: none needed; one DELETE, and a line already gone is the same outcome.
        removed = db.session.execute(
            delete(CartItem)
            .where(CartItem.user_id == user_id, CartItem.product_id == product_id)
            .returning(name)
            .execution_options(synchronize_session=False)
        ).scalar()
        db.session.commit()
    return replace(load_cart(user_id, currency, language), removed=removed)


def take_bought(user_id: int, bought: list[tuple[int, int]], code: str | None = None) -> None:
    """Remove units that were just paid for, as (product id, quantity) pairs, and the code
    the order used (a code typed since stays); lines added or raised since the checkout
    keep the rest. The caller commits (with the paid mark)."""
    if code is not None:
        db.session.execute(
            delete(CartCode).where(CartCode.user_id == user_id, CartCode.code == code)
        )
    # Lock: row locks; PostgreSQL re-checks each WHERE on the row an add just committed.
    # Lines are taken in product order, the same for every fulfilment, so two fulfilments
    # of one user's orders cannot lock the same lines in opposite orders (a deadlock).
    for product_id, quantity in sorted(bought):
        line = (CartItem.user_id == user_id, CartItem.product_id == product_id)
        db.session.execute(delete(CartItem).where(*line, CartItem.quantity <= quantity))
        db.session.execute(
            update(CartItem)
            .where(*line, CartItem.quantity > quantity)
            .values(quantity=CartItem.quantity - quantity)
        )


def forget_cart(user_id: int) -> None:
    """Delete every line of the user's cart (an account being deleted). The caller commits."""
    db.session.execute(delete(CartItem).where(CartItem.user_id == user_id))
    db.session.execute(delete(CartCode).where(CartCode.user_id == user_id))
