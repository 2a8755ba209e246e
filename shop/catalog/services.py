"""Catalogue rules: listing and searching active products, upserting the seed file."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, bindparam, false, func, or_, select, update

from ..auth.models import User
from ..extensions import db, read
from ..models import utcnow
from . import history
from .models import Availability, Product, ProductEvent, ProductPrice, shown

SEED_FILE = Path(__file__).with_name("products.json")
SEED_FIELDS = ("name", "description", "image", "name_de", "description_de")
QUERY_MAX = 100
#: What the sku column holds.
SKU_MAX = 64
#: What the columns hold (name, image), what a product card can show (description), and
#: Stripe's ceiling for a unit amount: a longer or larger value is refused before any write.
NAME_MAX, DESCRIPTION_MAX, IMAGE_MAX = 200, 5000, 255
PRICE_MAX = 99_999_999
#: The most units on hand a product may be given (far below the integer column's limit).
STOCK_MAX = 1_000_000


class SeedError(ValueError):
    """The seed file is unreadable or an entry is malformed; nothing was written."""


@dataclass
class SeedReport:
    """What `seed_products` changed, by SKU."""

    added: list[str] = field(default_factory=list)
    #: Stock levels set on products this run added ("sku=units"); never on existing ones.
    stocked: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    unchanged: int = 0
    #: Active products without a price in an offered currency ("sku: eur"): shown in that
    #: currency, but not sold in it.
    unpriced: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Card(Availability):
    """A product as its card in the grid shows it: plain values read in one statement, with
    no ORM object behind them. Equal cards render equal HTML (see `shop.rendered`)."""

    id: int
    sku: str
    name: str
    description: str
    image: str
    stock: int | None
    reserved: int
    #: Its price in `currency`; None when it is not sold in that currency.
    price_cents: int | None
    currency: str
    #: On the signed-in customer's favourites (the heart is pressed).
    favourite: bool = False

    @property
    def priced(self) -> bool:
        """Sold in the currency shown (a card without a price cannot be added)."""
        return self.price_cents is not None


#: The languages a card can be read in (`shop.languages.OFFERED`; the ground module is
#: not imported by a service, the routes pass the request's language).
LANGUAGES = ("en", "de")


def card_columns(language: str) -> tuple:
    """The columns of a card read from the database, in `Card`'s field order (the currency,
    which the request chose, comes last), its name and description in `language`."""
    return (
        Product.id,
        Product.sku,
        shown("name", language),
        shown("description", language),
        Product.image,
        Product.stock,
        Product.reserved,
        ProductPrice.price_cents,
    )


#: A product's price in the `:currency` parameter, joined to it (NULL: not sold in it).
PRICE_IN_CURRENCY = and_(
    ProductPrice.product_id == Product.id, ProductPrice.currency == bindparam("currency")
)

#: Every active product's card, by its name in each language. Built once: building a
#: statement costs more than running this one (it is on every page).
ALL_CARDS = {
    language: select(*card_columns(language))
    .outerjoin(ProductPrice, PRICE_IN_CURRENCY)
    .where(Product.active)
    .order_by(shown("name", language), Product.id)
    for language in LANGUAGES
}


#: A product matching a search: its name or description holds the text, whatever the case
#: (`:pattern` from `_pattern`). Built once, like the statements it narrows.
#: Per language: a search matches the name and description the customer reads.
_MATCHES = {
    language: or_(
        func.lower(shown("name", language)).like(func.lower(bindparam("pattern")), escape="/"),
        func.lower(shown("description", language)).like(
            func.lower(bindparam("pattern")), escape="/"
        ),
    )
    for language in LANGUAGES
}
#: (with the badge, narrowed by a search, language) -> statement; the badge's come with it.
_STATEMENTS = {
    **{(False, False, lang): ALL_CARDS[lang] for lang in LANGUAGES},
    **{(False, True, lang): ALL_CARDS[lang].where(_MATCHES[lang]) for lang in LANGUAGES},
}
#: The header badge's figure: a SELECT of one customer's cart units (`:user_id`). The cart
#: builds on the catalog, so the catalog cannot import it: `shop.create_app` hands it over
#: (`show_badge_with`), and the shop page then reads its cards and badge in one round trip.
_badge: Select | None = None
#: Whether the `:user_id` customer keeps a card's product as a favourite (SQL on
#: `products.id`); handed over by the favourites area, built on this one
#: (`mark_favourites_with`). Without it no card is a favourite.
_favourite: Any = None


def show_badge_with(units: Select) -> None:
    """Use `units` (a scalar SELECT bound by `:user_id`) for the header badge: alone, and
    as one more column of every card row (the page's cards and badge in one statement)."""
    global _badge
    _badge = units
    _build_customer_statements()


def mark_favourites_with(is_favourite: Any) -> None:
    """Use `is_favourite` (a boolean SQL expression on `products.id`, bound by `:user_id`)
    as one more column of every card row a customer's page reads."""
    global _favourite
    _favourite = is_favourite
    _build_customer_statements()


def _build_customer_statements() -> None:
    """The cards with the customer's favourite mark and cart badge, in one statement."""
    if _badge is None:
        return
    favourite = _favourite if _favourite is not None else false()
    for language in LANGUAGES:
        with_badge = ALL_CARDS[language].add_columns(favourite, _badge.scalar_subquery())
        _STATEMENTS[True, False, language] = with_badge
        _STATEMENTS[True, True, language] = with_badge.where(_MATCHES[language])


def badge(user_id: int) -> int:
    """The units in `user_id`'s cart, for a page whose query carried no card."""
    return db.session.scalar(_badge, {"user_id": user_id})


def search_products(
    query: str = "", currency: str = "usd", language: str = "en"
) -> tuple[Card, ...]:
    """Cards of the active products whose name or description (in `language`) contains
    `query` (case-insensitive), by name, priced in `currency`: one statement, no ORM objects."""
    query = query.strip()[:QUERY_MAX]
    params = {"pattern": _pattern(query), "currency": currency}
    rows = read(_STATEMENTS[False, bool(query), _language(language)], params)
    return tuple(Card(*row, currency) for row in rows)


def cards_and_badge(
    query: str, user_id: int, currency: str, language: str = "en"
) -> tuple[tuple[Card, ...], int | None]:
    """`search_products(query, currency, language)` and the units in `user_id`'s cart, in
    one statement; the count is None when no card matched (no row carried it)."""
    query = query.strip()[:QUERY_MAX]
    params = {"pattern": _pattern(query), "user_id": user_id, "currency": currency}
    rows = read(_STATEMENTS[True, bool(query), _language(language)], params).all()
    cards = tuple(Card(*row[:-2], currency, bool(row[-2])) for row in rows)
    return cards, (rows[0][-1] if rows else None)


def _language(language: str) -> str:
    """An offered language (anything else reads English)."""
    return language if language in LANGUAGES else LANGUAGES[0]


def _pattern(query: str) -> str:
    """The LIKE pattern finding `query` anywhere, its wildcards escaped (escape char `/`);
    the database lowers it, as it lowers the columns, so both sides fold case alike."""
    escaped = query.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def find_product(sku: str) -> Product | None:
    """The active product with this SKU; None for an unknown, overlong or inactive one."""
    if not sku or len(sku) > SKU_MAX:
        return None
    return db.session.scalar(select(Product).where(Product.sku == sku, Product.active))


def read_seed_file(path: Path = SEED_FILE) -> list[dict]:
    """Parse and validate the seed file, so a bad entry stops the load before any write."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SeedError(f"cannot read {path}: {error}") from None
    if not isinstance(entries, list):
        raise SeedError(f"{path}: expected a list of products")
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{path} entry {index}"
        if not isinstance(entry, dict):
            raise SeedError(f"{where}: expected an object")
        sku = entry.get("sku")
        if not isinstance(sku, str) or not sku.strip() or len(sku) > SKU_MAX or "\x00" in sku:
            raise SeedError(
                f"{where}: 'sku' must be a non-empty string of at most {SKU_MAX} characters"
            )
        if sku in seen:
            raise SeedError(f"{where}: duplicate sku {sku!r}")
        seen.add(sku)
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX or "\x00" in name:
            raise SeedError(
                f"{where} ({sku}): 'name' must be a non-empty string of at most {NAME_MAX} "
                "characters"
            )
        entry["prices"] = _prices(entry, f"{where} ({sku})")
        texts = (("description", DESCRIPTION_MAX), ("image", IMAGE_MAX), ("name_de", NAME_MAX),
                 ("description_de", DESCRIPTION_MAX))  # fmt: skip
        for text, limit in texts:
            value = entry.get(text, "")
            if not isinstance(value, str) or len(value) > limit or "\x00" in value:
                raise SeedError(
                    f"{where} ({sku}): '{text}' must be a string of at most {limit} characters"
                )
        stock = entry.get("stock")
        if stock is not None and (
            not isinstance(stock, int) or isinstance(stock, bool) or not 0 <= stock <= STOCK_MAX
        ):
            raise SeedError(
                f"{where} ({sku}): 'stock' must be a whole number from 0 to {STOCK_MAX}, or null"
            )
        entry.setdefault("description", "")
        entry.setdefault("image", "")
        # The German texts are optional: absent (or empty), the English ones show.
        entry["name_de"] = entry.get("name_de") or None
        entry["description_de"] = entry.get("description_de") or None
    return entries


def _prices(entry: dict, where: str) -> dict[str, int]:
    """The entry's prices by lower-case currency: `"prices": {"usd": 1250, "eur": 1150}`,
    or the older single `price_cents` with its `currency` (default usd)."""
    single = "price_cents" in entry or "currency" in entry
    if "prices" in entry and single:
        raise SeedError(f"{where}: give 'prices' or 'price_cents' and 'currency', not both")
    if single:
        raw = {entry.get("currency", "usd"): entry.get("price_cents")}
        names = {code: "'price_cents'" for code in raw}
    else:
        raw = entry.get("prices")
        if not isinstance(raw, dict) or not raw:
            raise SeedError(
                f"{where}: 'prices' must map currencies to prices, like {{\"usd\": 1250}}"
            )
        names = {code: f"'prices.{code}'" for code in raw}
    prices: dict[str, int] = {}
    for code, price in raw.items():
        if not isinstance(code, str) or len(code) != 3 or not code.isascii() or not code.isalpha():
            raise SeedError(f"{where}: {code!r} is not a 3-letter ISO currency code")
        if code.lower() in prices:
            raise SeedError(f"{where}: {code.lower()} is priced twice")
        if not isinstance(price, int) or isinstance(price, bool) or not 0 <= price <= PRICE_MAX:
            raise SeedError(
                f"{where}: {names[code]} must be a whole number of minor units from 0 to "
                f"{PRICE_MAX}"
            )
        prices[code.lower()] = price
    return prices


def seed_products(entries: list[dict], currencies: tuple[str, ...] = ()) -> SeedReport:
    """Upsert products by SKU in one transaction; products missing from `entries` go inactive.

    The seed file owns a product's name, description, prices, image and presence; the admin
    owns its stock level after creation and its hide switch, which a later seed never undoes
    (a hidden product stays hidden, a stock level stays as it is). The report names each
    product without a price in one of `currencies` (the ones the shop sells in).
    """
    report = SeedReport()
    existing = {p.sku: p for p in db.session.scalars(select(Product))}
    for entry in entries:
        product = existing.pop(entry["sku"], None)
        values = {name: entry[name] for name in SEED_FIELDS}
        prices = entry["prices"]
        report.unpriced += [f"{entry['sku']}: {code}" for code in currencies if code not in prices]
        if product is None:
            # Stock is the seed file's only for a product it adds: after that the level is
            # the admin's (sales, restocks), and a later seed never overwrites it.
            stock = entry.get("stock")
            product = Product.make(prices, sku=entry["sku"], active=True, stock=stock, **values)
            db.session.add(product)
            report.added.append(entry["sku"])
            if stock is not None:
                report.stocked.append(f"{entry['sku']}={stock}")
            continue
        changed = [name for name, value in values.items() if getattr(product, name) != value]
        repriced = {code: p.price_cents for code, p in product.prices.items()} != prices
        listed = not product.hidden  # present in the file: shown, unless an admin hid it
        if changed or repriced or product.active != listed:
            for name in changed:
                setattr(product, name, values[name])
            product.set_prices(prices)
            product.active = listed
            report.updated.append(entry["sku"])
        else:
            report.unchanged += 1
    for product in existing.values():
        if product.active:
            product.active = False
            report.deactivated.append(product.sku)
    db.session.commit()
    return report


class ProductNotFound(LookupError):
    """No product has that SKU."""


@dataclass(frozen=True)
class ProductRow:
    """A product as the admin list shows it, with its last recorded change."""

    product: Product
    last_change: ProductEvent | None
    changed_by: str | None


def admin_products() -> list[ProductRow]:
    """Every product, active or not, by name, each with its last change: two queries."""
    products = list(db.session.scalars(select(Product).order_by(Product.name, Product.id)))
    latest = select(func.max(ProductEvent.id)).group_by(ProductEvent.product_id).scalar_subquery()
    changes = {
        event.product_id: (event, email)
        for event, email in db.session.execute(
            select(ProductEvent, User.email)
            .outerjoin(User, User.id == ProductEvent.actor_id)
            .where(ProductEvent.id.in_(latest))
        )
    }
    return [ProductRow(product, *changes.get(product.id, (None, None))) for product in products]


def update_product(sku: str, stock: int | None, active: bool, actor_id: int) -> list[str]:
    """Set a product's stock on hand (None: not tracked) and its hide switch, as an admin;
    each change is recorded with who made it. What changed, in words (empty: nothing)."""
    product = db.session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise ProductNotFound(sku)
    changes = []
    if stock != product.stock:
        # Lock: one UPDATE of the row; a sale committing meanwhile is overwritten, as the
        # admin states the count on hand now (the history keeps both).
        note = f"stock {_units(product.stock)} → {_units(stock)}"
        if product.reserved:
            note += f" ({product.reserved} held by open checkouts)"
        db.session.execute(
            update(Product).where(Product.id == product.id).values(stock=stock, updated_at=utcnow())
        )
        history.record(product.id, "stock_set", actor_id, note)
        changes.append(note)
    if active != product.active:
        # Hidden products are the admin's: a later `flask seed` leaves them hidden.
        db.session.execute(
            update(Product)
            .where(Product.id == product.id)
            .values(active=active, hidden=not active, updated_at=utcnow())
        )
        kind = "shown" if active else "hidden"
        history.record(product.id, kind, actor_id, f"{kind} in the shop")
        changes.append(f"{kind} in the shop")
    db.session.commit()
    return changes


def _units(stock: int | None) -> str:
    """A stock level in words: a number, or 'not tracked'."""
    return "not tracked" if stock is None else str(stock)
