"""Helpers shared by the cart tests: posting like the page does, reading the cart back."""

import re

from sqlalchemy import delete, select

from conftest import PASSWORD, csrf_token
from shop.cart.models import CartItem
from shop.catalog.models import Product
from shop.extensions import db

HTMX = {"HX-Request": "true"}


def cart_lines(app, user_id: int) -> dict[int, int]:
    """The user's cart as stored: product id -> quantity."""
    with app.app_context():
        rows = db.session.execute(
            select(CartItem.product_id, CartItem.quantity).where(CartItem.user_id == user_id)
        )
        return dict(rows.all())


def make_products(app, count: int, prefix: str = "T", price_cents: int = 100) -> list[int]:
    """`count` active products straight in the database; returns their ids in order."""
    with app.app_context():
        products = [
            Product.make(
                {"usd": price_cents}, sku=f"{prefix}-{n:03d}", name=f"Test product {prefix}{n}"
            )
            for n in range(count)
        ]
        db.session.add_all(products)
        db.session.commit()
        return [p.id for p in products]


def fill_cart(app, user_id: int, product_ids, quantity: int = 1) -> None:
    """Put lines in a cart directly (set-up for tests about something else)."""
    with app.app_context():
        db.session.add_all(
            CartItem(user_id=user_id, product_id=pid, quantity=quantity) for pid in product_ids
        )
        db.session.commit()


def clear_cart(app, user_id: int) -> None:
    """Empty a cart directly."""
    with app.app_context():
        db.session.execute(delete(CartItem).where(CartItem.user_id == user_id))
        db.session.commit()


def set_active(app, product_id: int, active: bool) -> None:
    """Take a product off sale (or back on)."""
    with app.app_context():
        db.session.get(Product, product_id).active = active
        db.session.commit()


class Shopper:
    """A logged-in client that posts the cart forms as the page does, CSRF included."""

    def __init__(self, client):
        self.client = client
        self.token = csrf_token(client)

    def add(self, product_id, quantity=None, htmx=False, **extra):
        """POST /cart/items (no `quantity` field at all when quantity is None)."""
        data = {"product_id": product_id, "csrf_token": self.token, **extra}
        if quantity is not None:
            data["quantity"] = quantity
        return self.client.post("/cart/items", data=data, headers=HTMX if htmx else {})

    def set(self, product_id, quantity, htmx=False):
        """POST /cart/items/<id> with a quantity."""
        data = {"quantity": quantity, "csrf_token": self.token}
        return self.client.post(
            f"/cart/items/{product_id}", data=data, headers=HTMX if htmx else {}
        )

    def remove(self, product_id):
        """DELETE /cart/items/<id> as htmx sends it: token in the header, no body."""
        headers = {**HTMX, "X-CSRFToken": self.token}
        return self.client.delete(f"/cart/items/{product_id}", headers=headers)


def login_client(app, email: str = "ada@example.com"):
    """A fresh test client logged in as `email` through the real form."""
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")},
    )
    assert response.status_code == 302
    return client


def badge(html: str) -> str | None:
    """The text of the #cart-count badge in `html`."""
    match = re.search(r'<span id="cart-count"[^>]*>([^<]*)</span>', html)
    return match.group(1) if match else None
