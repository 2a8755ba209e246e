"""The dashboard's health panel: are Stripe's webhooks arriving, and is email going out?

Its figures are scalar subqueries read by the same statement as the dashboard's counts
(`services.dashboard`), so the panel costs no query of its own; the warning uses the
pending checkouts that statement counts anyway.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ScalarSelect

from ..notifications import outbox
from ..notifications.models import OutboxStatus
from ..payments import activity

#: The window of the webhook figures, and how long without a webhook, while checkouts are
#: pending, before the panel warns.
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Health:
    """Webhooks received and failed in the last 24 h, the last one, the email backlog."""

    received: int
    failed: int
    last_webhook_at: datetime | None
    backlog: int
    #: No webhook for 24 h (or ever) while checkouts wait for Stripe: the endpoint may be
    #: down, misconfigured or signing with another secret.
    webhooks_quiet: bool


def columns(now: datetime) -> list[ScalarSelect]:
    """The panel's figures as scalar subqueries, in the order `read` takes them."""
    since = now - WINDOW
    return [
        activity.delivered_since(since),
        activity.failed_since(since),
        activity.last_delivered_at(),
        outbox.count(OutboxStatus.PENDING),
    ]


def read(values: tuple, now: datetime, pending: int) -> Health:
    """The panel from the values of `columns(now)` and the number of pending checkouts."""
    received, failed, last_webhook_at, backlog = values
    stale = last_webhook_at is None or last_webhook_at < now - WINDOW
    return Health(
        received=received,
        failed=failed,
        last_webhook_at=last_webhook_at,
        backlog=backlog,
        webhooks_quiet=pending > 0 and stale,
    )
