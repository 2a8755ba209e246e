"""Refunds in the shop's terms: give back part or all of a payment, list what was given back.

Call these with no database transaction of your own open (see `checkout`).
"""

from . import gateway, translate
from .types import Refund


def refund(payment_intent_id: str, amount: int, reason: str, key: str) -> Refund:
    """Refund `amount` (minor units) of a PaymentIntent.

    `key` is the shop's own refund row key: Stripe's idempotency key is made from it (a
    retry, a double click or a timeout never refunds twice) and it travels in the refund's
    metadata, so Stripe's events about it find the row it belongs to.
    """
    params = translate.refund_params(payment_intent_id, amount, reason, key)
    return translate.refund(gateway.create_refund(params, idempotency_key=f"refund-{key}"))


def refunds_of(payment_intent_id: str) -> list[Refund]:
    """Every refund of a PaymentIntent as Stripe has them, wherever they were made."""
    return [translate.refund(found) for found in gateway.list_refunds(payment_intent_id)]
