"""Reading /metrics as Prometheus would: samples by name and labels, and what changed; and
outbox rows for the figures read from the database."""

from prometheus_client.parser import text_string_to_metric_families

from shop.extensions import db
from shop.notifications.models import OutboxMessage

TOKEN = "metrics-test-token-0123456789abcdef"
#: Request metrics: every request moves them, the scrape itself included.
REQUEST_PREFIX = "shop_http_request_duration_seconds"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape: {(sample name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def bearer(token: str = TOKEN) -> dict[str, str]:
    """The header Prometheus sends with `authorization: {credentials: ...}`."""
    return {"Authorization": f"Bearer {token}"}


def scrape(client, token: str = TOKEN) -> Samples:
    """Scrape the app behind a Flask test client."""
    response = client.get("/metrics", headers=bearer(token))
    assert response.status_code == 200, response.status_code
    return parse(response.get_data(as_text=True))


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when it has not appeared yet (a counter not yet moved)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def changes(before: Samples, after: Samples, requests: bool = False) -> Samples:
    """The samples that moved between two scrapes, by how much; request metrics left out
    unless `requests` (every request, the scrapes too, moves them)."""
    moved = {}
    for key in before.keys() | after.keys():
        if key[0].startswith(REQUEST_PREFIX) and not requests:
            continue
        delta = after.get(key, 0.0) - before.get(key, 0.0)
        if delta:
            moved[key] = delta
    return moved


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The key of one sample in `Samples`."""
    return (name, tuple(sorted(labels.items())))


def checkout_opened(units: int) -> Samples:
    """What a new checkout holding `units` moves: a session, the hold, one pending order."""
    return {
        key("shop_checkout_sessions_created_total"): 1,
        key("shop_stock_units_total", change="held"): units,
        key("shop_orders_pending"): 1,
        key("shop_stock_reserved_units"): units,
    }


def order_paid(units: int) -> Samples:
    """What its payment, delivered by webhook, moves (but the last webhook's time): the
    order paid, the delivery handled, the units sold, the receipt owed."""
    return {
        key("shop_orders_total", outcome="paid"): 1,
        key("shop_webhook_events_total", type="checkout.session.completed", result="handled"): 1,
        key("shop_stock_units_total", change="sold"): units,
        key("shop_orders_pending"): -1,
        key("shop_stock_reserved_units"): -units,
        key("shop_outbox_backlog"): 1,  # the receipt
    }


def add_messages(app, *statuses: str) -> None:
    """Outbox rows at these statuses (pending, sent, failed), straight in the database."""
    with app.app_context():
        for n, status in enumerate(statuses):
            db.session.add(
                OutboxMessage(
                    cause=f"test:{n}",
                    kind="account",
                    recipient="ada@example.com",
                    context={},
                    message_id=f"<{n}@example.com>",
                    status=status,
                )
            )
        db.session.commit()
