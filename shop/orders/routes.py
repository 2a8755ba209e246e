"""`GET /orders`: the My Orders modal body (htmx) or the page with it open."""

from flask import Blueprint
from flask_login import current_user, login_required

from ..catalog.services import search_products
from ..htmx import is_htmx, render
from ..models import utcnow
from . import services

bp = Blueprint("orders", __name__)

#: What customers read for each status (rows also carry the raw status in data-status).
STATUS_LABELS = {
    "pending": "Awaiting payment",
    "paid": "Paid",
    "failed": "Payment failed",
    "expired": "Expired",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
}


def render_orders(message: str | None = None, message_kind: str = "success", status: int = 200):
    """My Orders: the modal body for htmx, else the whole page with the modal open."""
    orders = services.list_orders(current_user.id)
    context = {
        "orders": orders,
        "polling": services.any_pending(orders),
        "now": utcnow(),
        "message": message,
        "message_kind": message_kind,
        "open_dialog": "orders",
        "status_labels": STATUS_LABELS,
    }
    if not is_htmx():
        context["products"] = search_products()
    return render("orders/orders.html", ["orders_body"], status=status, **context)


@bp.get("/orders")
@login_required
def show():
    """The customer's orders, newest first."""
    return render_orders()
