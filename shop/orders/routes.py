"""`GET /orders`: the My Orders modal body (htmx) or the page with it open."""

from flask import Blueprint
from flask_login import current_user, login_required

from ..models import utcnow
from ..pages import ORDERS, with_dialog
from . import services
from .models import OrderStatus

bp = Blueprint("orders", __name__)

#: What customers read for each status (rows also carry the raw status in data-status).
STATUS_LABELS = {
    OrderStatus.PENDING: "Awaiting payment",
    OrderStatus.PAID: "Paid",
    OrderStatus.FAILED: "Payment failed",
    OrderStatus.EXPIRED: "Expired",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.PARTIALLY_REFUNDED: "Partly refunded",
    OrderStatus.REFUNDED: "Refunded",
}


@bp.app_context_processor
def orders_globals() -> dict:
    """`my_orders()` and the words for each status, for the My Orders dialog."""
    return {
        "my_orders": lambda: services.list_orders(current_user.id),
        "any_pending": services.any_pending,
        "status_labels": STATUS_LABELS,
        "utcnow": utcnow,
    }


@bp.get("/orders")
@login_required
def show():
    """The customer's orders, newest first."""
    return with_dialog(ORDERS)
