"""What the webhook endpoint has been receiving: deliveries handled and failed since a
time, and the last one handled, for the admin's health panel and /metrics.

Only events Stripe delivered count (`via = 'webhook'`): events `flask payments reconcile`
caught up on were missed by the endpoint, and must not make a broken endpoint look alive.
Each figure is a scalar subquery, so a caller reads several in one statement.
"""

from datetime import datetime

from sqlalchemy import ScalarSelect, func, select

from .. import metrics
from .models import StripeEvent, WebhookFailure

#: How `stripe_events.via` names a delivery from Stripe.
WEBHOOK = "webhook"


def delivered_since(since: datetime) -> ScalarSelect:
    """Events Stripe delivered and the shop handled (each counted once) since `since`."""
    return (
        select(func.count())
        .select_from(StripeEvent)
        .where(StripeEvent.via == WEBHOOK, StripeEvent.received_at >= since)
        .scalar_subquery()
    )


def failed_since(since: datetime) -> ScalarSelect:
    """Deliveries whose handling failed (and that Stripe retries) since `since`."""
    return (
        select(func.count())
        .select_from(WebhookFailure)
        .where(WebhookFailure.failed_at >= since)
        .scalar_subquery()
    )


def last_delivered_at() -> ScalarSelect:
    """When the last event Stripe delivered was handled (NULL: never)."""
    return (
        select(func.max(StripeEvent.received_at))
        .where(StripeEvent.via == WEBHOOK)
        .scalar_subquery()
    )


def readings() -> list[metrics.Reading]:
    """What /metrics reads about webhooks at each scrape: the last one handled, so an alert
    can fire however many workers and dynos restarted since (counters start again at 0)."""
    return [
        metrics.Reading(
            "shop_webhook_last_received_timestamp_seconds",
            "When the last event Stripe delivered was handled (Unix time); absent: never.",
            last_delivered_at,
            convert=metrics.as_timestamp,
        )
    ]
