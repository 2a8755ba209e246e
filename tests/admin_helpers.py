"""Helpers for the admin tests: orders in a given state, shipping through the form."""

from sqlalchemy import select, update

from checkout_helpers import orders, pay
from conftest import csrf_token
from shop.extensions import db
from shop.orders.models import Order, OrderEvent


def paid(app, order: Order) -> Order:
    """Pay a pending order's session on the emulator's page; the order as it is then."""
    pay(app, order.stripe_session_id)
    return next(found for found in orders(app) if found.id == order.id)


def set_order(app, order_id: int, **values) -> None:
    """Change an order straight in the database (set-up for a state the test is about)."""
    with app.app_context():
        db.session.execute(update(Order).where(Order.id == order_id).values(**values))
        db.session.commit()


def ship(client, order_id: int, htmx: bool = False, token: str | None = "page", **fields):
    """Post the shipment form as the page does (a form, or htmx with the header token)."""
    value = csrf_token(client, f"/admin/orders/{order_id}") if token == "page" else token
    path = f"/admin/orders/{order_id}/shipment"
    if htmx:
        headers = {"HX-Request": "true"} | ({"X-CSRFToken": value} if value else {})
        return client.post(path, data=fields, headers=headers)
    return client.post(path, data=fields | ({"csrf_token": value} if value else {}))


def timeline(app, order_id: int) -> list[tuple[str, str, int | None, str]]:
    """The order's timeline as (kind, source, actor id, note), oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(OrderEvent.kind, OrderEvent.source, OrderEvent.actor_id, OrderEvent.note)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.at, OrderEvent.id)
        )
        return [tuple(row) for row in rows]


def stored(app, order_id: int) -> Order:
    """The order as the database has it now."""
    return next(found for found in orders(app) if found.id == order_id)
