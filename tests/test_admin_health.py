"""The dashboard's health panel: Stripe webhooks received and failed in the last 24 hours,
the last one (and a warning when none came for a day while checkouts wait), the emails
waiting to go out."""

import re
from datetime import timedelta

import pytest

from checkout_helpers import make_orders
from metrics_helpers import add_messages
from shop.admin import services
from shop.extensions import db
from shop.models import utcnow
from shop.payments.models import StripeEvent, WebhookFailure


def add_events(app, *ages: timedelta, via: str = "webhook") -> None:
    """Events recorded `age` ago, arrived `via` a delivery or reconcile."""
    now = utcnow()
    with app.app_context():
        for n, age in enumerate(ages):
            event_id = f"evt_{via}_{n}_{age.total_seconds():.0f}"
            db.session.add(StripeEvent(id=event_id, type="x", via=via, received_at=now - age))
        db.session.commit()


def add_failures(app, *ages: timedelta) -> None:
    """Failed deliveries `age` ago."""
    now = utcnow()
    with app.app_context():
        for n, age in enumerate(ages):
            db.session.add(
                WebhookFailure(event_id=f"evt_f{n}", event_type="x", failed_at=now - age)
            )
        db.session.commit()


def health(app):
    """The panel's figures, as the dashboard reads them now."""
    with app.app_context():
        return services.dashboard(utcnow()).health


def panel(admin) -> str:
    """The health panel of the dashboard page."""
    page = admin.client.get("/admin").get_data(as_text=True)
    return re.search(r'<section[^>]*data-figure="health".*?</section>', page, re.S).group(0)


HOURS = timedelta(hours=1)


def test_the_panel_counts_the_last_day_of_deliveries_and_failures(app):
    add_events(app, 1 * HOURS, 5 * HOURS, 23 * HOURS, 25 * HOURS, 100 * HOURS)
    add_events(app, 2 * HOURS, via="reconcile")  # caught up: the endpoint missed it
    add_failures(app, 3 * HOURS, 30 * HOURS)
    add_messages(app, "pending", "pending", "sent", "failed")
    figures = health(app)
    assert (figures.received, figures.failed, figures.backlog) == (3, 1, 2)
    assert utcnow() - figures.last_webhook_at == pytest.approx(HOURS, abs=timedelta(minutes=1))
    assert not figures.webhooks_quiet


@pytest.mark.parametrize(
    ("last_webhook", "pending", "quiet"),
    [
        (None, 0, False),  # a new shop: nothing sold, nothing to say
        (None, 1, True),  # checkouts wait, and Stripe has never reached the endpoint
        (25 * HOURS, 2, True),
        (25 * HOURS, 0, False),  # a quiet day without checkouts is just a quiet day
        (23 * HOURS, 2, False),
    ],
)
def test_the_panel_warns_after_a_day_without_webhooks_while_checkouts_wait(
    app, auth, seeded, last_webhook, pending, quiet
):
    if last_webhook is not None:
        add_events(app, last_webhook)
    add_events(app, HOURS, via="reconcile")  # reconcile catching up keeps nothing quiet
    make_orders(app, auth.create_user(), seeded["MUG-STONE"], 3, status="paid")
    for n in range(pending):  # one pending checkout per customer
        customer = auth.create_user(f"waiting{n}@example.com")
        make_orders(app, customer, seeded["MUG-STONE"], 1, status="pending")
    assert health(app).webhooks_quiet is quiet


def test_the_dashboard_shows_the_panel_beside_the_orders_needing_attention(
    app, admin, user, seeded
):
    add_events(app, 30 * HOURS)
    add_failures(app, HOURS, 2 * HOURS)
    add_messages(app, "pending")
    make_orders(app, user, seeded["MUG-STONE"], 1, status="pending")
    page = admin.client.get("/admin").get_data(as_text=True)
    assert page.index('data-figure="attention"') < page.index('data-figure="health"')
    shown = panel(admin)
    assert 'data-webhooks-received="0"' in shown and 'data-webhooks-failed="2"' in shown
    assert 'data-outbox-backlog="1"' in shown and 'data-webhooks-quiet="true"' in shown
    assert "No webhook from Stripe for over 24 hours" in shown
    assert "while 1 checkout waits for payment" in shown
    assert "1 email waiting to be sent" in re.sub(r"</?strong>", "", shown)


def test_the_panel_says_when_no_webhook_ever_came_and_stays_calm_without_checkouts(app, admin):
    shown = panel(admin)
    assert "Last received: never" in shown
    assert 'data-webhooks-quiet="false"' in shown and "No webhook from Stripe" not in shown
