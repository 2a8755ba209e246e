"""The success page's reconciliation: ask Stripe, then fulfil if paid."""

import logging

from .. import payments
from ..extensions import db
from ..orders import settlement
from ..orders.lifecycle import Origin
from ..orders.models import Order, OrderStatus, Source

log = logging.getLogger(__name__)


def confirm(order: Order) -> Order:
    """Fulfil `order` if its session is paid at Stripe; the webhook may have done it already."""
    if order.status == OrderStatus.PAID:
        return order
    session_id = order.stripe_session_id
    db.session.rollback()  # hold no pooled connection while Stripe answers
    try:
        session = payments.get_session(session_id)
    except payments.PaymentsError as error:
        # Stripe unreachable: the webhook will settle it; the page polls meanwhile.
        log.warning("success page: could not retrieve %s: %s", session_id, error)
        return order
    fulfilled = settlement.fulfil(session, Origin(Source.SUCCESS_PAGE, session.id))
    if fulfilled is None:
        db.session.refresh(order)
        return order
    return fulfilled
