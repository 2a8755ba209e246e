"""The catalogue's products, their stock, and what admins changed on them."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, func
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, attribute_keyed_dict, mapped_column, relationship

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime, utcnow

#: At or below this many units a card says "Only N left".
LOW_STOCK = 5


class Availability:
    """What a card and a cart line say about stock, from `stock` and `reserved` (shared by
    the ORM product and the catalogue's lightweight `Card`)."""

    stock: int | None
    reserved: int

    @hybrid_property
    def unheld(self) -> int | None:
        """Units on hand that no open checkout holds: stock - reserved, below zero after a
        late payment, None (NULL in SQL) when stock is not tracked. The one definition of
        what is left: the cards, the cart's units left, the hold's guard and the admin's
        products page all read it (`Product.unheld` is the same as SQL)."""
        return None if self.stock is None else self.stock - self.reserved

    @unheld.inplace.expression
    @classmethod
    def _unheld_sql(cls):
        """stock - reserved in SQL (NULL when stock is NULL, as None above)."""
        return cls.stock - cls.reserved

    @property
    def available(self) -> int | None:
        """Units a customer can still add (None when stock is not tracked)."""
        return None if self.unheld is None else max(self.unheld, 0)

    @property
    def sold_out(self) -> bool:
        """Tracked, and nothing left to sell."""
        return self.available == 0

    @property
    def low(self) -> bool:
        """Tracked, and few enough left to say so."""
        return self.available is not None and 0 < self.available <= LOW_STOCK


class Product(Availability, TimestampMixin, db.Model):
    """A catalogue entry loaded by `flask seed`; deactivated, never deleted.

    `stock` is the units on hand (None: not tracked, never sold out); `reserved` the units
    held by open Checkout Sessions. Both change only in single guarded statements
    (`shop.orders.stock`), so available = stock - reserved can be trusted under load.
    """

    __tablename__ = "products"
    __table_args__ = (CheckConstraint("reserved >= 0", name="reserved_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: The German name and description from the seed file (None: the English ones show).
    name_de: Mapped[str | None] = mapped_column(String(200))
    description_de: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(default=True)
    #: An admin's hide switch; `active` is "in the seed file and not hidden".
    hidden: Mapped[bool] = mapped_column(default=False)
    #: May go below 0 only through a payment that arrived after its hold was released.
    stock: Mapped[int | None]
    reserved: Mapped[int] = mapped_column(default=0)
    #: Its price in each currency it is sold in, by lower-case code (the seed file's).
    prices: Mapped[dict[str, "ProductPrice"]] = relationship(
        collection_class=attribute_keyed_dict("currency"),
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    def name_in(self, language: str) -> str:
        """Its name in `language` (the English one when the seed file gives none)."""
        return getattr(self, f"name_{language}", None) or self.name

    def description_in(self, language: str) -> str:
        """Its description in `language` (the English one when the seed file gives none)."""
        return getattr(self, f"description_{language}", None) or self.description

    @classmethod
    def make(cls, prices: dict[str, int], **columns) -> "Product":
        """A new product priced `prices` ({"usd": 1250, "eur": 1150}, minor units)."""
        product = cls(**columns)
        product.set_prices(prices)
        return product

    def set_prices(self, prices: dict[str, int]) -> None:
        """Make its prices exactly `prices` (a currency no longer listed goes)."""
        for code in set(self.prices) - set(prices):
            del self.prices[code]
        for code, cents in prices.items():
            if code in self.prices:
                self.prices[code].price_cents = cents
            else:
                self.prices[code] = ProductPrice(currency=code, price_cents=cents)

    def price_in(self, currency: str) -> int | None:
        """Its price in `currency`, in minor units; None when it is not sold in it."""
        price = self.prices.get(currency)
        return None if price is None else price.price_cents

    def __repr__(self) -> str:
        return f"<Product {self.sku}>"


class ProductPrice(db.Model):
    """A product's price in one currency, set per market by the seed file (no exchange rate
    is applied): a product without one in a customer's currency is shown, not sold."""

    __tablename__ = "product_prices"
    __table_args__ = (CheckConstraint("price_cents >= 0", name="price_not_negative"),)

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    #: Lower-case ISO 4217 code.
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    price_cents: Mapped[int]


class ProductEvent(db.Model):
    """A change an admin (or the seed) made to a product: who, what, when."""

    __tablename__ = "product_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))  # stock_set, stock_returned, hidden, shown
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")


def shown(column: str, language: str):
    """SQL for a product's `name` or `description` in `language`: its own column there when
    the table has one (`name_de`), falling back to the English text."""
    localized = getattr(Product, f"{column}_{language}", None)
    english = getattr(Product, column)
    if localized is None:
        return english
    return func.coalesce(localized, english)
