"""A visitor's cart, kept in their signed session cookie until they log in.

Why the cookie and not a table: it is the visitor's own (signed with SECRET_KEY, so no one
can forge or change it, and sent only by their browser, so no one else can read it), it
needs no row, no id to guess and no clean-up job, and a customer's `GET /` reads nothing
of it. It is bounded like an account's cart (MAX_LINES lines, CART_MAX_QUANTITY each, a
few hundred bytes) and expires: a cart untouched for MAX_AGE is dropped when next read.

The rules are the cart's own: an add is checked against the product as it is now (shown,
priced in the currency, units left) with the same messages, and logging in merges the
lines through `services.add_item`, which caps each at the line maximum and what is left.

The functions take and return the session's plain value (`{"lines": [[id, qty], ...],
"at": epoch seconds}`); the routes read and write the session itself.
"""

import time
from dataclasses import dataclass, replace
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from .. import languages
from ..catalog.models import Product, ProductPrice, shown
from ..extensions import db
from ..models import ID_MAX
from . import services
from .models import CartItem
from .services import (
    MAX_LINES,
    Cart,
    CartFull,
    CartLine,
    CartProduct,
    LineMissing,
    NotSoldIn,
    ProductUnavailable,
    SoldOut,
)

#: The session key holding the visitor's cart.
SESSION_KEY = "guest_cart"
#: A visitor's cart untouched this long is forgotten (seconds: a week).
MAX_AGE = 7 * 24 * 3600


def lines_of(kept: Any, now: float | None = None) -> list[tuple[int, int]]:
    """The (product id, quantity) lines of a session value, oldest first; nothing when it is
    missing, expired, or not what this module writes."""
    now = time.time() if now is None else now
    if not isinstance(kept, dict) or not isinstance(kept.get("at"), int | float):
        return []
    if now - kept["at"] > MAX_AGE:
        return []
    found = []
    for entry in kept.get("lines") or []:
        if (
            isinstance(entry, list | tuple)
            and len(entry) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in entry)
            and 0 < entry[0] <= ID_MAX
            and entry[1] > 0
        ):
            found.append((entry[0], entry[1]))
    return found[:MAX_LINES]


def value_of(lines: list[tuple[int, int]], now: float | None = None) -> dict[str, Any] | None:
    """The session value for these lines (None: the cart is empty, drop the key)."""
    if not lines:
        return None
    return {
        "lines": [[pid, qty] for pid, qty in lines],
        "at": int(time.time() if now is None else now),
    }


def count(kept: Any) -> int:
    """Units in the visitor's cart (the header badge), without a query."""
    return sum(quantity for _, quantity in lines_of(kept))


@dataclass(frozen=True)
class Changed:
    """What a change left: the new session value and the cart as it is now."""

    value: dict[str, Any] | None
    cart: Cart
    #: The add's note: units on the line and what is left of it.
    added: services.Added | None = None


def _products(ids: list[int], currency: str) -> dict[int, tuple]:
    """The products of these ids with their price in `currency` and units left (no holds
    of the visitor's own: a visitor has no checkout), in one statement."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            Product.id,
            shown("name", languages.current()),  # what the visitor reads
            Product.image,
            Product.active,
            Product.stock,
            ProductPrice.price_cents,
            Product.unheld,
        )  # fmt: skip
        .outerjoin(
            ProductPrice,
            (ProductPrice.product_id == Product.id) & (ProductPrice.currency == currency),
        )
        .where(Product.id.in_(ids))
    )
    return {row[0]: tuple(row) for row in rows}


def _cart(lines: list[tuple[int, int]], found: dict[int, tuple], currency: str) -> Cart:
    """The visitor's cart from its lines and their products (a product gone is dropped)."""
    built = []
    for product_id, quantity in lines:
        if product_id not in found:
            continue
        pid, name, image, active, stock, price, left = found[product_id]
        product = CartProduct(pid, name, image, active, stock, price, currency)
        sellable = product.active and product.priced
        built.append(
            CartLine(
                product=product,
                quantity=quantity,
                available=sellable,
                line_total_cents=price * quantity if sellable else 0,
                units_left=None if stock is None else max(left, 0),
            )
        )
    return Cart(
        lines=tuple(built),
        subtotal_cents=sum(line.line_total_cents for line in built),
        currency=currency,
        count=sum(line.quantity for line in built),
        has_unavailable=any(not line.available for line in built),
    )


def load(kept: Any, currency: str) -> Cart:
    """The visitor's cart priced in `currency` (one statement; none for an empty cart)."""
    lines = lines_of(kept)
    return _cart(lines, _products([pid for pid, _ in lines], currency), currency)


def add(kept: Any, product_id: int, quantity: int, max_quantity: int, currency: str) -> Changed:
    """Add units as `services.add_item` does for a customer: capped at the line maximum and
    at what is left; hidden, unknown, sold-out and unpriced products refused alike."""
    lines = lines_of(kept)
    ids = [pid for pid, _ in lines]
    found = _products([*ids, product_id] if product_id <= ID_MAX else ids, currency)
    product = found.get(product_id)
    if product is None or not product[3]:
        raise ProductUnavailable(gettext("That product is not available."))
    _, name, _, _, stock, price, left = product
    if price is None:
        raise NotSoldIn(services.not_sold_in(name, currency))
    if stock is not None and left <= 0:
        raise SoldOut(services.sold_out(name))
    current = dict(lines)
    if product_id not in current and len(lines) >= MAX_LINES:
        raise CartFull(services.cart_full())
    cap = max_quantity if stock is None else min(max_quantity, left)
    new_quantity = min(current.get(product_id, 0) + quantity, cap)
    if product_id in current:
        lines = [(pid, new_quantity if pid == product_id else qty) for pid, qty in lines]
    else:
        lines = [*lines, (product_id, new_quantity)]
    cart = _cart(lines, found, currency)
    added = services.Added(
        quantity=new_quantity,
        name=name,
        units_left=None if stock is None else max(left, 0),
        count=cart.count,
        subtotal_cents=cart.subtotal_cents,
        currency=currency,
    )
    return Changed(value_of(lines), cart, added)


def set_quantity(kept: Any, product_id: int, quantity: int, currency: str) -> Changed:
    """Set a line (the caller checked the range); 0 removes it."""
    lines = lines_of(kept)
    if product_id not in dict(lines):
        raise LineMissing(gettext("That product is no longer in your cart."))
    if quantity == 0:
        return remove(kept, product_id, currency)
    lines = [(pid, quantity if pid == product_id else qty) for pid, qty in lines]
    return Changed(value_of(lines), load(value_of(lines), currency))


def remove(kept: Any, product_id: int, currency: str) -> Changed:
    """Remove a line; removing one that is not there is fine."""
    lines = lines_of(kept)
    gone = next((pid for pid, _ in lines if pid == product_id), None)
    lines = [(pid, qty) for pid, qty in lines if pid != product_id]
    cart = load(value_of(lines), currency)
    if gone is not None:
        removed = _products([gone], currency).get(gone)
        cart = replace(cart, removed=removed[1] if removed else None)
    return Changed(value_of(lines), cart)


def merge(kept: Any, user_id: int, max_quantity: int, currency: str) -> list[str]:
    """Add the visitor's lines to the account's cart (quantities added, each capped at the
    line maximum and what is left); what the customer should be told about lines that were
    capped or could not be added. The caller then drops the visitor's cart."""
    lines = lines_of(kept)
    if not lines:
        return []
    before = dict(
        db.session.execute(
            select(CartItem.product_id, CartItem.quantity).where(CartItem.user_id == user_id)
        ).all()
    )
    notes = []
    for product_id, quantity in lines:
        try:
            added = services.add_item(user_id, product_id, quantity, max_quantity, currency)
        except services.CartError as refused:
            not_added = gettext("It was not added to your cart.")
            notes.append(f"{refused} {not_added}")
            continue
        if added.quantity < before.get(product_id, 0) + quantity:
            notes.append(gettext("%(name)s: %(num)d in your cart, the most you can have.",
                                 name=added.name, num=added.quantity))  # fmt: skip
    return notes
