"""Catalogue rules: listing and searching active products, upserting the seed file."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import or_, select

from ..extensions import db
from .models import Product

SEED_FILE = Path(__file__).with_name("products.json")
SEED_FIELDS = ("name", "description", "price_cents", "currency", "image")
QUERY_MAX = 100
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


def search_products(query: str = "") -> list[Product]:
    """Active products whose name or description contains `query` (case-insensitive)."""
    statement = select(Product).where(Product.active).order_by(Product.name, Product.id)
    query = query.strip()[:QUERY_MAX]
    if query:
        statement = statement.where(
            or_(
                Product.name.icontains(query, autoescape=True),
                Product.description.icontains(query, autoescape=True),
            )
        )
    return list(db.session.scalars(statement))


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
        if not isinstance(sku, str) or not sku.strip() or len(sku) > 64 or "\x00" in sku:
            raise SeedError(f"{where}: 'sku' must be a non-empty string of at most 64 characters")
        if sku in seen:
            raise SeedError(f"{where}: duplicate sku {sku!r}")
        seen.add(sku)
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX or "\x00" in name:
            raise SeedError(
                f"{where} ({sku}): 'name' must be a non-empty string of at most {NAME_MAX} "
                "characters"
            )
        price = entry.get("price_cents")
        if not isinstance(price, int) or isinstance(price, bool) or not 0 <= price <= PRICE_MAX:
            raise SeedError(
                f"{where} ({sku}): 'price_cents' must be a whole number from 0 to {PRICE_MAX}"
            )
        for text, limit in (("description", DESCRIPTION_MAX), ("image", IMAGE_MAX)):
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
        currency = entry.get("currency", "usd")
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
            raise SeedError(f"{where} ({sku}): 'currency' must be a 3-letter ISO code")
        entry["currency"] = currency.lower()
        entry.setdefault("description", "")
        entry.setdefault("image", "")
    return entries


def seed_products(entries: list[dict]) -> SeedReport:
    """Upsert products by SKU in one transaction; products missing from `entries` go inactive.

    The seed file owns a product's name, description, price, currency, image and presence;
    the admin owns its stock level after creation and its hide switch, which a later seed
    never undoes (a hidden product stays hidden, a stock level stays as it is).
    """
    report = SeedReport()
    existing = {p.sku: p for p in db.session.scalars(select(Product))}
    for entry in entries:
        product = existing.pop(entry["sku"], None)
        values = {name: entry[name] for name in SEED_FIELDS}
        if product is None:
            # Stock is the seed file's only for a product it adds: after that the level is
            # the admin's (sales, restocks), and a later seed never overwrites it.
            stock = entry.get("stock")
            db.session.add(Product(sku=entry["sku"], active=True, stock=stock, **values))
            report.added.append(entry["sku"])
            if stock is not None:
                report.stocked.append(f"{entry['sku']}={stock}")
            continue
        changed = [name for name, value in values.items() if getattr(product, name) != value]
        listed = not product.hidden  # present in the file: shown, unless an admin hid it
        if changed or product.active != listed:
            for name in changed:
                setattr(product, name, values[name])
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
