"""`GET /orders` and `GET /orders/<id>`: My Orders and one order's detail, as the modal
body (htmx) or the page with it open."""

from flask import Blueprint, abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..extensions import reads_only
from ..models import utcnow
from ..pages import ORDERS, with_dialog
from . import listing, services
from .models import OrderStatus

bp = Blueprint("orders", __name__)

#: What customers read for each status (rows also carry the raw status in data-status).
STATUS_LABELS = {
    OrderStatus.PENDING: _l("Awaiting payment"),
    OrderStatus.PAID: _l("Paid"),
    OrderStatus.FAILED: _l("Payment failed"),
    OrderStatus.EXPIRED: _l("Expired"),
    OrderStatus.CANCELLED: _l("Cancelled"),
    OrderStatus.PARTIALLY_REFUNDED: _l("Partly refunded"),
    OrderStatus.REFUNDED: _l("Refunded"),
}


#: What customers read for each entry of an order's timeline (`OrderEvent.kind`): a status
#: the order moved to, or another kind of entry. Kinds not listed are the shop's own notes
#: (a late payment flagged for an admin, an email that failed, stock put back) and are
#: not shown to the customer.
TIMELINE_WORDS = {
    "created": _l("Order placed; waiting for payment"),
    OrderStatus.PAID: _l("Payment received"),
    OrderStatus.FAILED: _l("Payment failed; nothing was charged"),
    OrderStatus.EXPIRED: _l("Checkout expired unpaid; nothing was charged"),
    OrderStatus.CANCELLED: _l("Checkout closed unpaid; nothing was charged"),
    OrderStatus.PARTIALLY_REFUNDED: _l("Partly refunded"),
    OrderStatus.REFUNDED: _l("Refunded in full"),
    "shipped": _l("Shipped"),
    "refund": _l("Refund issued"),
}


#: How Stripe's refund reasons read.
REFUND_REASONS = {
    "requested_by_customer": _l("requested by customer"),
    "duplicate": _l("duplicate"),
    "fraudulent": _l("fraudulent"),
}


def timeline_words(kind: str) -> str | None:
    """The customer's wording for a timeline entry of `kind` (None: not for customers)."""
    return TIMELINE_WORDS.get(kind)


@bp.app_context_processor
def orders_globals() -> dict:
    """`my_orders(render_row)` and the words for each status and timeline entry, for My
    Orders."""
    return {
        "my_orders": lambda render_row: listing.my_orders(current_user.id, render_row),
        "status_labels": STATUS_LABELS,
        "timeline_words": timeline_words,
        "refund_reasons_named": REFUND_REASONS,
        "utcnow": utcnow,
    }


@bp.get("/orders")
@reads_only
@login_required
def show():
    """The customer's orders, newest first."""
    return with_dialog(ORDERS)


@bp.get("/orders/<int:order_id>")
@reads_only
@login_required
def detail(order_id: int):
    """One of the customer's orders: lines, totals, and what happened to it, in My Orders."""
    order = services.find_order(current_user.id, order_id) or abort(404, _("No such order."))
    return with_dialog(ORDERS, detail=order)
