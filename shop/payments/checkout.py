"""Checkout Sessions in the shop's terms: open one for an order, look at one, close one.

Call these with no database transaction of your own open: Stripe is a remote system, and
a pooled connection held while it answers (up to 20 s) is one the next request lacks.
"""

from .. import metrics
from . import gateway, translate
from .types import CheckoutRequest, CheckoutSession


def open_session(request: CheckoutRequest, key: str) -> CheckoutSession:
    """Create the hosted payment page for an order.

    `key` is the order's own random checkout key: retrying with it returns the same session
    (Stripe's idempotency), and it never repeats across databases or installations that
    share one Stripe account, as an order id would after a reset.
    """
    params = translate.checkout_params(request)
    created = gateway.create_checkout_session(params, idempotency_key=f"checkout-{key}")
    session = translate.checkout_session(created)
    # Counted when Stripe answered: the session exists there, whatever the caller does next.
    metrics.CHECKOUT_SESSIONS.inc()
    return session


def get_session(session_id: str) -> CheckoutSession:
    """A session as Stripe has it now."""
    return translate.checkout_session(gateway.retrieve_checkout_session(session_id))


def close_session(session_id: str) -> CheckoutSession:
    """Make sure nobody can pay a session any more: expire it if it is open.

    Returns the session as it stands afterwards: `expired`, or `complete` when the customer
    paid it a moment before (the caller must then record the payment, never charge again).
    `SessionNotFound` if Stripe has no such session.
    """
    try:
        return translate.checkout_session(gateway.expire_checkout_session(session_id))
    except gateway.SessionNotFound:
        raise
    except gateway.PaymentsRejected:
        # No longer open: it expired by itself, or it was just paid. Ask which.
        return get_session(session_id)
