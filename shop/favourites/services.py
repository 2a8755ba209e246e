"""Toggling a favourite, listing them, moving one to the cart.

The shop page shows each card's heart from the same statement that reads its cards
(`catalog.mark_favourites_with`, handed `IS_FAVOURITE` at start-up), so a customer's
`GET /` costs the same statements with no favourites or fifty.
"""

from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite

from ..cart import services as cart
from ..catalog.models import Product, ProductPrice, shown
from ..catalog.services import LANGUAGES
from ..extensions import db
from ..models import utcnow
from .models import Favourite

#: SQL: whether the `:user_id` customer keeps the product `products.id` as a favourite.
IS_FAVOURITE = (
    exists()
    .where(
        Favourite.user_id == bindparam("user_id", type_=Integer()),
        Favourite.product_id == Product.id,
    )
    .correlate(Product)
)


class NoSuchProduct(Exception):
    """No product has that id."""


@dataclass(frozen=True)
class Listed:
    """A favourite as the modal lists it: the product, its price in the currency shown
    (None: not sold in it), and whether it can be bought now."""

    product_id: int
    sku: str
    name: str
    image: str
    price_cents: int | None
    currency: str
    active: bool

    @property
    def available(self) -> bool:
        """Shown in the shop and priced in this currency."""
        return self.active and self.price_cents is not None


def toggle(user_id: int, product_id: int) -> bool:
    """Add the product to the customer's favourites, or take it off; whether it is one now.

    Lock: the primary key (user, product). A delete that removed nothing means it was not a
    favourite: insert it, and an insert racing another for the same pair does nothing.
    """
    if db.session.get(Product, product_id) is None:
        raise NoSuchProduct(product_id)
    removed = db.session.execute(
        delete(Favourite).where(Favourite.user_id == user_id, Favourite.product_id == product_id)
    ).rowcount
    if not removed:
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        db.session.execute(
            dialect.insert(Favourite)
            .values(user_id=user_id, product_id=product_id, created_at=utcnow())
            .on_conflict_do_nothing()
        )
    db.session.commit()
    return not removed


def name_of(product_id: int) -> str:
    """A product's name."""
    return db.session.scalar(select(Product.name).where(Product.id == product_id)) or ""


def is_favourite(user_id: int, product_id: int) -> bool:
    """Whether the customer keeps this product."""
    return db.session.get(Favourite, (user_id, product_id)) is not None


def listing(user_id: int, currency: str, language: str = "en") -> list[Listed]:
    """The customer's favourites, newest first, priced in `currency` (one statement)."""
    rows = db.session.execute(
        select(
            Product.id,
            Product.sku,
            shown("name", language if language in LANGUAGES else "en"),
            Product.image,
            ProductPrice.price_cents,
            Product.active,
        )  # fmt: skip
        .join(Favourite, Favourite.product_id == Product.id)
        .outerjoin(
            ProductPrice,
            (ProductPrice.product_id == Product.id) & (ProductPrice.currency == currency),
        )
        .where(Favourite.user_id == user_id)
        .order_by(Favourite.created_at.desc(), Product.id)
    )
    return [
        Listed(pid, sku, name, image, price, currency, active)
        for pid, sku, name, image, price, active in rows
    ]


def move_to_cart(
    user_id: int, product_id: int, max_quantity: int, currency: str, language: str = "en"
) -> cart.Added:
    """Put one unit in the cart (the cart's own rules: hidden, sold out, not sold in the
    currency are refused) and keep it on the list: a favourite stays a favourite."""
    return cart.add_item(user_id, product_id, 1, max_quantity, currency, language)


def product_ids(user_id: int) -> list[int]:
    """The ids of the customer's favourites (the data export)."""
    return list(
        db.session.scalars(select(Favourite.product_id).where(Favourite.user_id == user_id))
    )


def forget(user_id: int) -> None:
    """Delete the customer's favourites (an account being deleted). The caller commits."""
    db.session.execute(delete(Favourite).where(Favourite.user_id == user_id))
