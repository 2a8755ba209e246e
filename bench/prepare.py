"""The benchmark's data: the seeded catalogue, a customer with a full history, query probes.

`prepare(app)` is idempotent: it migrates, seeds, and (re)creates the bench customers'
carts and orders, touching no one else's data, so it also runs on an existing
PostgreSQL database given by `DATABASE_URL`.
"""

from dataclasses import dataclass
from datetime import timedelta

import flask_migrate
from flask import Flask
from sqlalchemy import delete, select

from shop.auth import services as auth_services
from shop.auth import tokens
from shop.cart.models import CartItem
from shop.catalog import services as catalog_services
from shop.catalog.models import Product
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import Order, OrderItem, OrderStatus

PASSWORD = "bench-password-123"
#: The customer wrk logs in as: a 10-line cart and 50 past orders.
CUSTOMER = "bench@example.com"
CUSTOMER_LINES, CUSTOMER_ORDERS = 10, 50
#: Customers whose query counts are compared: the smallest and a large history.
SMALL = ("bench-small@example.com", 1, 1)
LARGE = ("bench-large@example.com", 40, 200)
#: Extra products for carts longer than the catalogue; inactive, so the shop page still
#: shows exactly the seeded catalogue (a cart shows them as no longer available).
FILLER_SKU = "BENCH-FILLER-{:03d}"


@dataclass(frozen=True)
class Prepared:
    """What the load and the probes need to know about the prepared data."""

    product_ids: list[int]
    customer_id: int
    small_id: int
    large_id: int
    #: A personal access token of the bench customer, for the JSON API's endpoints.
    api_token: str = ""


def prepare(app: Flask, migrate: bool = True) -> Prepared:
    """Migrate, seed the catalogue, and give the bench customers their carts and orders."""
    with app.app_context():
        if migrate:
            flask_migrate.upgrade()
        catalog_services.seed_products(catalog_services.read_seed_file())
        products = list(
            db.session.scalars(select(Product).where(Product.active).order_by(Product.id))
        )
        fillers = _fillers(max(0, LARGE[1] - len(products)))
        method = app.config["PASSWORD_HASH_METHOD"]
        ids = []
        for email, lines, orders in ((CUSTOMER, CUSTOMER_LINES, CUSTOMER_ORDERS), SMALL, LARGE):
            user = auth_services.ensure_user(email, PASSWORD, method)
            fill_history(user.id, (products + fillers)[:lines], orders)
            ids.append(user.id)
        tokens.revoke_all(ids[0])  # one live token: this run's
        made = tokens.make_token(ids[0], "bench")
        return Prepared([p.id for p in products], *ids, api_token=made.secret)


def _fillers(count: int) -> list[Product]:
    """`count` inactive products (created once) for the long carts."""
    found = []
    for n in range(count):
        sku = FILLER_SKU.format(n)
        product = db.session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            product = Product.make({"usd": 100}, sku=sku, name=f"Bench filler {n}", active=False)
            db.session.add(product)
        found.append(product)
    db.session.commit()
    return found


def fill_history(user_id: int, products: list[Product], orders: int) -> None:
    """Replace the user's cart with one line (2 units) per product and give them paid orders."""
    db.session.execute(delete(CartItem).where(CartItem.user_id == user_id))
    mine = select(Order.id).where(Order.user_id == user_id)
    db.session.execute(delete(OrderItem).where(OrderItem.order_id.in_(mine)))
    db.session.execute(delete(Order).where(Order.user_id == user_id))
    db.session.add_all(CartItem(user_id=user_id, product_id=p.id, quantity=2) for p in products)
    now = utcnow()
    for n in range(orders):
        bought = products[n % len(products)], products[(n + 1) % len(products)]
        placed = now - timedelta(days=orders - n)
        db.session.add(
            Order(
                user_id=user_id,
                status=OrderStatus.PAID,
                currency="usd",
                total_cents=sum(p.price_in("usd") for p in bought),
                cart_fingerprint=f"bench-{n}",
                paid_at=placed,
                created_at=placed,
                items=[
                    OrderItem(
                        product_id=p.id, name=p.name, unit_price_cents=p.price_in("usd"), quantity=1
                    )
                    for p in bought
                ],
            )
        )
    db.session.commit()
