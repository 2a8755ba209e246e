"""The emails an order owes its customer, each enqueued in the transaction of its cause:
`enqueue_receipt` (settlement calls it when an order becomes paid),
`enqueue_shipping_notice` (when an admin marks an order shipped) and
`enqueue_refund_notice` (once per refund the shop records). Each returns True if it added
the message, False if its cause already had one. The outbox (`shop.notifications`) sends
them; a message that fails for good is noted on its order's timeline (`register`).
"""

from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from .. import languages
from ..auth.models import User
from ..extensions import db
from ..models import utcnow
from ..notifications import outbox, worker
from ..notifications.messages import Outgoing
from ..shipping import address_lines, tracking_url
from . import lifecycle
from .lifecycle import Origin
from .models import Order, Source

#: What a refund notice says for each reason an admin may give (Stripe's values).
REFUND_REASONS = {
    "requested_by_customer": _l("at your request"),
    "duplicate": _l("a duplicate payment"),
    "fraudulent": _l("a payment we believe was not made by the card holder"),
}


def _day(moment: datetime) -> str:
    """A date as customers read it, in the message's language: "30 November 2026",
    "30. November 2026"."""
    return format_date(moment, format="long")


def _customer(user_id: int) -> tuple[str, str]:
    """The address of the customer an order belongs to, and the language they read in (the
    account's; English when they never chose one)."""
    email, language = db.session.execute(
        select(User.email, User.language).where(User.id == user_id)
    ).one()
    return email, languages.chosen(language) or languages.DEFAULT


def _order_summary(order: Order) -> dict[str, Any]:
    """What every order message shows: number, lines, shipping and total, as they are now,
    and where it ships."""
    address = order.shipping_address or {}
    return {
        "order_number": order.id,
        "currency": order.currency,
        "total_cents": order.total_cents,
        "items_cents": order.items_cents,
        "shipping_cents": order.shipping_cents,
        "subtotal_cents": order.subtotal_cents,
        "discount_cents": order.discount_cents,
        "tax_cents": order.tax_cents,
        "promotion_code": order.promotion_code or "",
        # The lines above the total, as Stripe charged them (subtotal, discount, tax, shipping).
        "breakdown": [list(row) for row in order.breakdown(current_app.config["TAX_NAME"])],
        "shipping_rate": order.shipping_rate or "",
        "ship_to_lines": address_lines(address),
        "customer_name": address.get("name", ""),
        "lines": [
            {
                "name": item.name,
                "quantity": item.quantity,
                "unit_price_cents": item.unit_price_cents,
                "line_total_cents": item.line_total_cents,
            }
            for item in order.items
        ],
        "date": _day(utcnow()),
    }


def _enqueue_for_order(order: Order, kind: str, cause: str, **extra: Any) -> bool:
    """Owe the order's customer a message of `kind` about it, once per `cause`."""
    email, language = _customer(order.user_id)
    # Written now in the customer's language (the worker renders it in the same one).
    with force_locale(language):
        said = {name: str(value) if isinstance(value, LazyString) else value
                for name, value in extra.items()}  # fmt: skip
        context = {**_order_summary(order), **said, "language": language}
    return outbox.enqueue(kind, email, context, f"order:{order.id}:{cause}", order_id=order.id)


def enqueue_receipt(order: Order) -> bool:
    """A receipt for an order that has just been marked paid (once per order)."""
    return _enqueue_for_order(order, "receipt", "receipt")


def enqueue_shipping_notice(order: Order, *, carrier: str = "", tracking_number: str = "") -> bool:
    """A shipping notice, with carrier and tracking number when known (once per order: an
    order ships once)."""
    return _enqueue_for_order(
        order,
        "shipping",
        "shipped",
        carrier=carrier,
        tracking_number=tracking_number,
        tracking_url=tracking_url(carrier, tracking_number) or "",
    )


def enqueue_refund_notice(
    order: Order, *, refund_id: str, amount_cents: int, remaining_cents: int, reason: str = ""
) -> bool:
    """A refund notice: the amount given back, what the order still comes to, and why.

    `refund_id` names this refund once (Stripe's `re_...` id, which refunds made in the
    Dashboard also have); `remaining_cents` is the order's total less everything refunded
    so far, this refund included; `reason` is Stripe's reason code, or empty.
    """
    return _enqueue_for_order(
        order,
        "refund",
        f"refund:{refund_id}",
        amount_cents=amount_cents,
        remaining_cents=remaining_cents,
        reason=REFUND_REASONS.get(reason, reason),
    )


def note_failed_email(message: Outgoing, why: str) -> None:
    """An order's email failed for good: say so on its timeline (the worker commits)."""
    if message.order_id is not None:
        lifecycle.record(
            message.order_id,
            "email_failed",
            Origin(Source.SYSTEM, reference=f"outbox:{message.id}"),
            note=f"{message.kind} email to {message.recipient} {why}"[:2000],
        )


def register(app) -> None:
    """Tell the worker what orders need from it: timeline notes for failed emails, and the
    regular settling of pending orders past their session's expiry."""
    from . import expiry

    worker.on_failed_for_good(app, note_failed_email)
    worker.add_duty(app, "settle overdue orders", expiry.worker_duty)
