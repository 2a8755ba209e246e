"""GET /metrics in one process (the Flask test client): who may read it, what each metric
counts, and that a fact is counted once, when its transaction commits.

tests/postgres/test_metrics_proofs.py proves the sums over 4 gunicorn workers.
"""

import re

import pytest
from sqlalchemy import update

from checkout_helpers import add, checkout, deliver, fixture_event, orders, pay
from conftest import app_config, unreachable_database_url
from metrics_helpers import (
    TOKEN,
    add_messages,
    bearer,
    changes,
    checkout_opened,
    key,
    order_paid,
    parse,
    scrape,
    value,
)
from shop import create_app, metrics
from shop.catalog.models import Product
from shop.extensions import db
from shop.models import utcnow
from shop.orders import lifecycle, stock
from shop.orders.lifecycle import Origin
from shop.orders.models import OrderStatus, Source
from shop.payments.models import StripeEvent
from stripe_helpers import handle_only, signed_event

#: Every metric docs/operations.md documents, as its TYPE line names it.
DOCUMENTED = {
    "shop_http_request_duration_seconds": "histogram",
    "shop_checkout_sessions_created": "counter",
    "shop_orders": "counter",
    "shop_webhook_events": "counter",
    "shop_stock_units": "counter",
    "shop_orders_pending": "gauge",
    "shop_stock_reserved_units": "gauge",
    "shop_outbox_backlog": "gauge",
    "shop_emails": "counter",
    "shop_webhook_last_received_timestamp_seconds": "gauge",
    "shop_database_up": "gauge",
}
COMPLETED = "checkout.session.completed"
LAST_WEBHOOK = "shop_webhook_last_received_timestamp_seconds"


@pytest.fixture
def app(app):
    """The test app with a metrics token set (as a deployer would set METRICS_TOKEN)."""
    app.config["METRICS_TOKEN"] = TOKEN
    return app


def requests_to(samples, endpoint: str, status: str) -> float:
    """How many requests to `endpoint` answered `status`, in a scrape."""
    return value(
        samples, "shop_http_request_duration_seconds_count", endpoint=endpoint, status=status
    )


# --- who may read it -------------------------------------------------------------------------


def without_csrf_token(page: bytes) -> bytes:
    """A page with its CSRF tokens blanked (the meta tag's and any form's): a token carries
    the second it was signed, so two renderings differ there when a second boundary falls
    between them."""
    return re.sub(rb'"[\w-]+\.[\w-]+\.[\w-]+"', b'"TOKEN"', page)


def test_metrics_do_not_exist_without_a_token_set(app, client):
    app.config["METRICS_TOKEN"] = None
    made_up = without_csrf_token(client.get("/no-such-page").get_data())
    for headers in ({}, bearer(), bearer("")):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 404
        assert without_csrf_token(response.get_data()) == made_up


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
    ],
)
def test_metrics_need_the_bearer_token(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert "shop_" not in response.get_data(as_text=True)


def test_the_bearer_gets_every_documented_metric_in_prometheus_text_format(client):
    response = client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    for name, kind in DOCUMENTED.items():
        assert f"# TYPE {name}{'_total' if kind == 'counter' else ''} {kind}" in text, name
    assert value(parse(text), "shop_database_up") == 1


# --- requests --------------------------------------------------------------------------------


def test_requests_are_counted_by_endpoint_and_status_never_by_path(client):
    before = scrape(client)
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
    for session_id in ("cs_test_one", "cs_test_two"):  # one endpoint, two paths
        client.get(f"/emulator/checkout/{session_id}")
    client.get("/no-such-page")
    after = scrape(client)
    assert (
        requests_to(after, "health.healthz", "200") - requests_to(before, "health.healthz", "200")
        == 5
    )
    assert requests_to(after, "unmatched", "404") - requests_to(before, "unmatched", "404") == 1
    assert (
        requests_to(after, "emulator.checkout_page", "404")
        - requests_to(before, "emulator.checkout_page", "404")
        == 2
    )
    label_values = {v for (_, labels) in after for _, v in labels}
    assert not [v for v in label_values if "/" in v or "cs_test" in v]


def test_the_latency_histogram_holds_each_request_once(client):
    client.get("/healthz")
    samples = scrape(client)
    labels = {"endpoint": "health.healthz", "status": "200"}
    count = value(samples, "shop_http_request_duration_seconds_count", **labels)
    assert value(samples, "shop_http_request_duration_seconds_bucket", le="+Inf", **labels) == count
    assert value(samples, "shop_http_request_duration_seconds_sum", **labels) > 0


# --- facts: checkout, payment, webhooks, stock -----------------------------------------------


def test_a_checkout_and_its_payment_count_each_fact_once(app, client, user, seeded):
    before = scrape(client)
    add(client, seeded["BEAN-ETH-250"], 2)
    add(client, seeded["MUG-STONE"], 1)
    checkout(client)
    opened = scrape(client)
    assert changes(before, opened) == checkout_opened(units=3)
    [order] = orders(app)
    pay(app, order.stripe_session_id)  # the emulator delivers checkout.session.completed
    client.get(f"/checkout/success?session_id={order.stripe_session_id}")  # finds it paid
    paid = scrape(client)
    moved = changes(opened, paid)
    assert moved.pop(key(LAST_WEBHOOK)) > 0
    assert moved == order_paid(units=3)


def test_a_duplicate_webhook_moves_duplicate_and_nothing_else(app, client, order):
    event = fixture_event("checkout.session.completed.json", order, "evt_twice")
    assert deliver(client, app, event).status_code == 200
    before = scrape(client)
    answer = deliver(client, app, event)
    after = scrape(client)
    assert answer.get_json() == {"received": "duplicate event ignored"}
    assert changes(before, after) == {
        key("shop_webhook_events_total", type=COMPLETED, result="duplicate"): 1
    }
    assert (
        requests_to(after, "payments.webhook", "200")
        - requests_to(before, "payments.webhook", "200")
        == 1
    )


def test_a_refused_delivery_counts_rejected_without_trusting_its_type(app, client, order):
    event = fixture_event("checkout.session.completed.json", order, "evt_forged")
    body, headers = signed_event(event, "whsec_not_ours")
    before = scrape(client)
    assert client.post("/stripe/webhook", data=body, headers=headers).status_code == 400
    assert changes(before, scrape(client)) == {
        key("shop_webhook_events_total", type="unverified", result="rejected"): 1
    }


def test_a_verified_but_malformed_event_counts_rejected_under_its_type(app, client, order):
    event = fixture_event("checkout.session.completed.json", order, "evt_malformed")
    event["data"]["object"] = {"object": "checkout.session"}  # no id, no status
    before = scrape(client)
    assert deliver(client, app, event).status_code == 400
    assert changes(before, scrape(client)) == {
        key("shop_webhook_events_total", type=COMPLETED, result="rejected"): 1
    }


def test_an_event_without_a_handler_counts_ignored(app, client, order):
    event = fixture_event("checkout.session.completed.json", order, "evt_other")
    event["type"] = "customer.created"
    before = scrape(client)
    assert deliver(client, app, event).status_code == 200
    moved = changes(before, scrape(client))
    assert moved.pop(key(LAST_WEBHOOK)) > 0  # handled without error: the endpoint works
    assert moved == {key("shop_webhook_events_total", type="customer.created", result="ignored"): 1}


def test_a_failing_handler_counts_failed_and_rolls_its_work_back(app, client, order):
    def paid_then_broken(event):
        lifecycle.move(order.id, OrderStatus.PAID, Origin.of_event(event))
        raise RuntimeError("a bug after the move")

    handle_only(app, {COMPLETED: [paid_then_broken]})
    before = scrape(client)
    event = fixture_event("checkout.session.completed.json", order, "evt_broken")
    assert deliver(client, app, event).status_code == 500
    assert changes(before, scrape(client)) == {
        key("shop_webhook_events_total", type=COMPLETED, result="failed"): 1
    }
    assert orders(app)[0].status == "pending"  # the move was rolled back, and not counted


def test_a_move_counts_when_it_commits_never_when_it_rolls_back(app, client, order):
    before = scrape(client)
    with app.app_context():
        assert lifecycle.move(order.id, OrderStatus.EXPIRED, Origin(Source.SYSTEM))
        db.session.rollback()
        assert changes(before, scrape(client)) == {}
        assert lifecycle.move(order.id, OrderStatus.EXPIRED, Origin(Source.SYSTEM))
        db.session.commit()
    assert changes(before, scrape(client)) == {
        key("shop_orders_total", outcome="expired"): 1,
        key("shop_stock_units_total", change="released"): 3,
        key("shop_orders_pending"): -1,
        key("shop_stock_reserved_units"): -3,
    }


def test_a_hold_rolled_back_or_left_uncommitted_is_never_counted(app, client, order, seeded):
    before = scrape(client)
    with app.app_context():
        db.session.execute(update(Product).values(reserved=0))
        stock.hold(order.id, [(seeded["MUG-STONE"], 1)])  # pretend the order holds again
        db.session.rollback()
    with app.app_context():
        stock.hold(order.id, [(seeded["MUG-STONE"], 1)])
        db.session.close()  # closed, never committed: rolled back too
    assert changes(before, scrape(client)) == {}


class Broken:
    """A counter whose files went away under it."""

    def labels(self, *values, **labels):
        """Any child is this broken counter."""
        return self

    def inc(self, amount=1):
        """Fail."""
        raise FileNotFoundError("metrics directory removed")

    observe = inc


def test_metrics_failing_never_fail_a_request(client, monkeypatch, capsys):
    monkeypatch.setattr(metrics, "REQUEST_SECONDS", Broken())
    assert client.get("/healthz").status_code == 200
    assert "request metrics failed" in capsys.readouterr().out


def test_a_count_failing_after_a_commit_never_undoes_the_commit(app, order, caplog):
    with app.app_context():
        assert lifecycle.move(order.id, OrderStatus.EXPIRED, Origin(Source.SYSTEM))
        metrics.on_commit(Broken())
        db.session.commit()  # does not raise
    assert orders(app)[0].status == "expired"
    assert "could not count a committed fact" in caplog.text


# --- readings from the database ---------------------------------------------------------------


def test_readings_come_from_the_tables(app, client, user):
    add_messages(app, *["pending"] * 3, *["sent"] * 5, *["failed"] * 2)
    with app.app_context():
        recent = StripeEvent(id="evt_recent", type=COMPLETED, received_at=utcnow())
        caught_up = StripeEvent(id="evt_caught_up", type=COMPLETED, via="reconcile")
        db.session.add_all([recent, caught_up])
        db.session.commit()
        received_at = recent.received_at.timestamp()
    samples = scrape(client)
    assert value(samples, "shop_outbox_backlog") == 3
    assert value(samples, "shop_emails_total", status="sent") == 5
    assert value(samples, "shop_emails_total", status="failed") == 2
    # Only deliveries count: an event reconcile applied later says the webhook missed it.
    assert value(samples, LAST_WEBHOOK) == pytest.approx(received_at)


def test_no_webhook_ever_means_no_last_webhook_sample(client):
    assert key(LAST_WEBHOOK) not in scrape(client)


def test_a_database_outage_still_answers_with_the_counters(tmp_path):
    broken = create_app(
        app_config(
            unreachable_database_url(tmp_path), METRICS_TOKEN=TOKEN, PROPAGATE_EXCEPTIONS=False
        )
    )
    samples = scrape(broken.test_client())
    assert value(samples, "shop_database_up") == 0
    assert key("shop_outbox_backlog") not in samples
    assert key("shop_checkout_sessions_created_total") in samples
