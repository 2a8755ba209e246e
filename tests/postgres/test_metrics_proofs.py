"""/metrics under gunicorn with 4 workers on PostgreSQL: whichever worker answers a scrape,
it reports what all of them counted, and a worker's death loses none of it."""

import os
import re
import signal
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector

from metrics_helpers import TOKEN, bearer, changes, checkout_opened, key, order_paid, parse, value

from .shop_server import WORKERS, completed_event, session_id_of, together

pytestmark = pytest.mark.postgres

REQUESTS, THREADS = 400, 8
HEALTHZ = {"endpoint": "health.healthz", "status": "200"}
COUNT = "shop_http_request_duration_seconds_count"
COMPLETED = "checkout.session.completed"


#: On top of production settings; PROMETHEUS_MULTIPROC_DIR stays unset, as on a PaaS.
SERVER_SETTINGS = {"METRICS_TOKEN": TOKEN}


@pytest.fixture(scope="module")
def server_tmp(server) -> Path:
    """The server's TMPDIR (beside its log): where gunicorn.conf.py made its metrics
    directory."""
    return server.log.parent


def scrape(server) -> dict:
    """One scrape over HTTP, as Prometheus makes it (a new connection: any worker answers)."""
    response = requests.get(server.url("/metrics"), headers=bearer(), timeout=10)
    assert response.status_code == 200, response.text[:500]
    return parse(response.text)


def metrics_directory(server_tmp: Path) -> Path:
    """The directory gunicorn.conf.py made for this server."""
    [directory] = server_tmp.glob("shop-metrics-*")
    return directory


def healthz_by_worker(server_tmp: Path) -> dict[int, float]:
    """`GET /healthz` answers counted in each worker's own file, by the worker's pid."""
    found = {}
    for path in metrics_directory(server_tmp).glob("histogram_*.db"):
        pid = int(re.search(r"_(\d+)\.db$", path.name).group(1))
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for metric in MultiProcessCollector.merge([str(path)])
            for s in metric.samples
        }
        found[pid] = samples.get((COUNT, tuple(sorted(HEALTHZ.items()))), 0.0)
    return found


def boots(server) -> int:
    """How many times a worker booted, per the log."""
    return server.log.read_text().count("Booting worker")


def test_400_requests_spread_over_4_workers_read_as_400_from_any_of_them(server, server_tmp):
    before = value(scrape(server), COUNT, **HEALTHZ)

    def hit(_):
        """REQUESTS / THREADS requests, each on a new connection (any worker takes it)."""
        for _ in range(REQUESTS // THREADS):
            assert requests.get(server.url("/healthz"), timeout=10).status_code == 200

    _, seconds = together(THREADS, hit)
    scrapes = [value(scrape(server), COUNT, **HEALTHZ) - before for _ in range(2 * WORKERS)]
    served = {pid: n for pid, n in healthz_by_worker(server_tmp).items() if n}
    print(
        f"\n{REQUESTS} GET /healthz from {THREADS} threads in {seconds:.2f}s; answered per "
        f"worker pid: {served}; {len(scrapes)} scrapes read {sorted(set(scrapes))}"
    )
    assert scrapes == [REQUESTS] * len(scrapes)
    assert sum(served.values()) == REQUESTS
    assert len(served) >= 2, "the requests were not spread over the workers"

    # A worker dies (out of memory, say): gunicorn boots another, and its counts stay.
    booted = boots(server)
    os.kill(max(served, key=served.get), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while boots(server) == booted:
        assert time.monotonic() < deadline, "no new worker was booted"
        time.sleep(0.1)
    assert value(scrape(server), COUNT, **HEALTHZ) - before == REQUESTS


def test_a_paid_order_moves_the_paid_counter_by_one_and_a_duplicate_only_duplicate(
    server, products
):
    customer = server.add_customer()
    line = {"product_id": products["MUG-STONE"], "quantity": 2}
    assert customer.send("POST", "/cart/items", line).status_code == 200
    before = scrape(server)
    session_id = session_id_of(customer.send("POST", "/checkout").headers["HX-Redirect"])
    opened = scrape(server)
    assert changes(before, opened) == checkout_opened(units=2)

    body, headers = server.webhook(completed_event(server.pay_at_stripe(session_id)))
    delivery = requests.post(server.url("/stripe/webhook"), data=body, headers=headers, timeout=30)
    assert delivery.json() == {"received": "handled"}
    paid = scrape(server)
    moved = changes(opened, paid)
    assert moved.pop(key("shop_webhook_last_received_timestamp_seconds")) > 0
    assert moved == order_paid(units=2)

    again = requests.post(server.url("/stripe/webhook"), data=body, headers=headers, timeout=30)
    assert again.json() == {"received": "duplicate event ignored"}
    assert changes(paid, scrape(server)) == {
        key("shop_webhook_events_total", type=COMPLETED, result="duplicate"): 1
    }


def test_metrics_refuse_a_missing_or_wrong_token(server):
    for headers in ({}, bearer("wrong"), {"Authorization": f"Basic {TOKEN}"}):
        response = requests.get(server.url("/metrics"), headers=headers, timeout=10)
        assert response.status_code == 401
        assert "shop_" not in response.text


def test_stopping_the_server_removes_its_metrics_directory(server, server_tmp):
    """Last in the module: it stops the module's server, as the platform does (SIGTERM)."""
    directory = metrics_directory(server_tmp)
    assert list(directory.glob("*.db"))
    os.killpg(server.process.pid, signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    assert not directory.exists()
