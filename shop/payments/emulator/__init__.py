"""A small Stripe, built in: the Checkout subset the shop uses (sessions, their
PaymentIntents and Charges, refunds, events), in its own tables.

Active only without `STRIPE_SECRET_KEY`. The SDK reaches it in-process through
`client.EmulatorHTTPClient`, other processes over HTTP under `/emulator/stripe/v1/`.
The functions below are test seams for other areas (in-process, app context needed).
"""

import time

from . import store
from .client import fail_next
from .hosted import PaymentError, pay

__all__ = ["PaymentError", "count_sessions", "fail_next", "pay"]


def count_sessions(status: str | None = None) -> int:
    """How many Checkout Sessions exist, optionally with this (effective) status."""
    with store.transaction() as s:
        return store.count_sessions(s, status, int(time.time()))
