"""The messages other areas owe customers, each enqueued in the transaction of its cause.

Orders: `enqueue_receipt` (settlement calls it when an order becomes paid),
`enqueue_shipping_notice` (to call when an admin marks an order shipped) and
`enqueue_refund_notice` (to call once per refund the shop records). Accounts:
`enqueue_account_notice` (a password reset link, a warning about failed logins...).
Each returns True if it added the message, False if its cause already had one.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from ..models import utcnow
from ..orders.models import Order
from ..shipping import address_lines, tracking_url
from .outbox import enqueue

#: What a refund notice says for each reason an admin may give (Stripe's values).
REFUND_REASONS = {
    "requested_by_customer": "at your request",
    "duplicate": "a duplicate payment",
    "fraudulent": "a payment we believe was not made by the card holder",
}


def _day(moment: datetime) -> str:
    """A date as customers read it: "30 November 2026"."""
    return f"{moment.day} {moment:%B %Y}"


def _customer_email(user_id: int) -> str:
    """The address of the customer an order belongs to."""
    return db.session.scalar(select(User.email).where(User.id == user_id))


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
    context = {**_order_summary(order), **extra}
    email = _customer_email(order.user_id)
    return enqueue(kind, email, context, f"order:{order.id}:{cause}", order_id=order.id)


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


def enqueue_account_notice(
    recipient: str,
    *,
    cause: str,
    subject: str,
    paragraphs: list[str],
    action_url: str = "",
    action_label: str = "",
) -> bool:
    """A message about a customer's account: a subject, a few paragraphs of plain text and
    an optional button (e.g. a password reset link built with `messages.absolute_url`).

    `cause` names the event once, e.g. "user:7:password-reset:<token id>" or
    "user:7:failed-logins:2026-11-30T14" (one warning an hour at most).
    """
    context = {
        "subject": subject,
        "paragraphs": paragraphs,
        "action_url": action_url,
        "action_label": action_label or action_url,
    }
    return enqueue("account", recipient, context, cause)
