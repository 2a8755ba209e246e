"""Prometheus metrics, and `GET /metrics` for the deployer's Prometheus.

Three kinds of figures, each read where it is true:

- **Requests**: a latency histogram by Flask endpoint (never the raw path, so the number
  of series stays bounded) and status. The request log middleware's timer feeds it
  (`observe_request`), so a log line's `duration_ms` and the histogram measure the same
  thing; its `_count` is the request count. The endpoint is noted by a teardown.
- **Facts**, counted where they happen by the area that owns them (an order moved, a
  Checkout Session opened, a webhook delivery answered, stock held or given back). A fact
  that is part of a database transaction is counted with `on_commit`: once that
  transaction commits, never for one rolled back.
- **Readings**, figures read from the database at scrape time (the email outbox, pending
  orders, reserved units, the last webhook): the same on every worker, every dyno, and
  true of the `worker` process too, which nobody scrapes. Areas declare theirs as
  `Reading`s; `create_app` hands them to `init_app`, and one scrape reads them all in one
  statement.

Under gunicorn, gunicorn.conf.py points `PROMETHEUS_MULTIPROC_DIR` at a fresh directory
before the app is loaded; every worker then keeps its counters in files there and a
scrape, answered by any worker, sums them all. Without it (tests, `flask run`) counters
live in the process.
"""

import hmac
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import ColumnElement, event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

from .extensions import db

log = logging.getLogger(__name__)

#: Where each app keeps the readings its areas declared.
EXTENSION = "shop.metrics"
#: The environment variable that turns on prometheus_client's multiprocess mode.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: Label of requests Flask matched to no route (404, 405) and of those it never saw
#: (static files answered by WhiteNoise in front of it).
UNMATCHED, STATIC = "unmatched", "static"

#: The shop's own metrics, apart from prometheus_client's default registry (whose process
#: and GC figures would describe only the one worker that answers a scrape).
REGISTRY = CollectorRegistry(auto_describe=True)
# No `_created` series beside each counter: multiprocess mode has none, and a scrape should
# read the same under `flask run` as under gunicorn.
disable_created_metrics()

REQUEST_SECONDS = Histogram(
    "shop_http_request_duration_seconds",
    "Time to answer a request, by Flask endpoint and status; _count counts requests.",
    ["endpoint", "status"],
    registry=REGISTRY,
)
CHECKOUT_SESSIONS = Counter(
    "shop_checkout_sessions_created",
    "Stripe Checkout Sessions opened for new orders.",
    registry=REGISTRY,
)
ORDERS = Counter(
    "shop_orders",
    "Orders moved to an outcome: paid, failed, expired, cancelled, partially_refunded, refunded.",
    ["outcome"],
    registry=REGISTRY,
)
WEBHOOK_EVENTS = Counter(
    "shop_webhook_events",
    "Stripe webhook deliveries by event type and result: handled, ignored (no handler), "
    "duplicate, rejected (400), failed (500, Stripe retries).",
    ["type", "result"],
    registry=REGISTRY,
)
REFUNDS = Counter(
    "shop_refunds",
    "Refunds by outcome (succeeded, failed, canceled), wherever they were made; each "
    "refund is counted once per outcome it reaches.",
    ["outcome"],
    registry=REGISTRY,
)
REFUNDED_CENTS = Counter(
    "shop_refunded_amount_minor_units",
    "Money refunded, in minor units, by currency (refunds that succeeded).",
    ["currency"],
    registry=REGISTRY,
)
STOCK_UNITS = Counter(
    "shop_stock_units",
    "Units of stock held for checkouts, released again, sold, or sold after their hold was "
    "released (sold_late).",
    ["change"],
    registry=REGISTRY,
)


# --- counting a fact once its transaction commits --------------------------------------------

_ON_COMMIT = "shop.metrics.on_commit"


def on_commit(counter: Counter, amount: float = 1) -> None:
    """Add `amount` to `counter` (a labelled counter) once the current transaction of
    `db.session` commits; never if it rolls back or is closed instead (it did not happen)."""
    db.session.info.setdefault(_ON_COMMIT, []).append((counter, amount))


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    """The transaction committed: its facts happened; count them."""
    for counter, amount in session.info.pop(_ON_COMMIT, ()):
        try:
            counter.inc(amount)
        except Exception:  # the commit succeeded: a failing count must not say otherwise
            log.exception("metrics: could not count a committed fact")


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without committing (rollback, close): its facts
    did not happen. (After a commit the list is already empty.) The shop uses no
    savepoints, so only the outermost transaction decides."""
    if transaction.parent is None:
        session.info.pop(_ON_COMMIT, None)


# --- requests --------------------------------------------------------------------------------


#: Where `note_endpoint` leaves the endpoint for `observe_request`, in the WSGI environ.
ENDPOINT_KEY = "shop.endpoint"


def note_endpoint(error: BaseException | None = None) -> None:
    """Leave the endpoint that answered in the WSGI environ (a teardown: it runs for every
    request Flask sees, errors included); `unmatched` when no route matched (404, 405)."""
    rule = request.url_rule
    request.environ[ENDPOINT_KEY] = UNMATCHED if rule is None else rule.endpoint


def observe_request(environ: dict[str, Any], status: int, seconds: float) -> None:
    """Count one answered request and its duration (the request log middleware calls it).
    No endpoint noted: Flask never saw it, WhiteNoise answered (a static file)."""
    REQUEST_SECONDS.labels(environ.get(ENDPOINT_KEY, STATIC), str(status)).observe(seconds)


# --- readings from the database --------------------------------------------------------------


def as_number(value: Any) -> float:
    """A count or sum as a sample (SQL's NULL, for no rows, is 0)."""
    return float(value or 0)


def as_timestamp(at: datetime | None) -> float | None:
    """A time as Unix seconds, the unit Prometheus compares with `time()`; None: no sample."""
    return None if at is None else at.timestamp()


@dataclass(frozen=True)
class Reading:
    """A figure read from the database at scrape time: the same whichever process answers.

    `column` builds a scalar subquery (inside the app context); `convert` turns its value
    into the sample's number, or None for no sample (e.g. no webhook ever). Readings of
    one `name` form one metric, told apart by their `labels`.
    """

    name: str
    documentation: str
    column: Callable[[], ColumnElement]
    kind: Literal["gauge", "counter"] = "gauge"
    labels: dict[str, str] = field(default_factory=dict)
    convert: Callable[[Any], float | None] = as_number


class DatabaseReadings:
    """A collector reading every `Reading` in one SELECT, plus `shop_database_up`."""

    def __init__(self, readings: tuple[Reading, ...]):
        self.readings = readings

    def collect(self) -> Iterator[Metric]:
        """The readings' metrics; only `shop_database_up 0` when the database fails."""
        up = GaugeMetricFamily(
            "shop_database_up", "1 if the database answered this scrape's readings, else 0."
        )
        try:
            values = db.session.execute(select(*(r.column() for r in self.readings))).one()
        except SQLAlchemyError as error:
            db.session.rollback()
            log.warning("metrics: database readings failed: %s", error.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        db.session.rollback()  # a read: hold no transaction open for the rest of the scrape
        families: dict[str, Metric] = {}
        for reading, value in zip(self.readings, values, strict=True):
            family = families.get(reading.name)
            if family is None:  # listed even with no sample, so the name is always there
                kind = CounterMetricFamily if reading.kind == "counter" else GaugeMetricFamily
                family = families[reading.name] = kind(
                    reading.name, reading.documentation, labels=list(reading.labels)
                )
            number = reading.convert(value)
            if number is not None:
                family.add_metric(list(reading.labels.values()), number)
        yield from families.values()
        up.add_metric([], 1)
        yield up


class Scrape:
    """Everything one scrape reports: the counters (summed over the gunicorn workers in
    multiprocess mode, this process's otherwise) and the database readings."""

    def __init__(self, readings: tuple[Reading, ...]):
        self.readings = DatabaseReadings(readings)

    def collect(self) -> Iterator[Metric]:
        """Counters first, then readings."""
        directory = os.environ.get(MULTIPROCESS_DIR)
        if directory:
            yield from MultiProcessCollector(None, path=directory).collect()
        else:
            yield from REGISTRY.collect()
        yield from self.readings.collect()


# --- GET /metrics ------------------------------------------------------------------------------

bp = Blueprint("metrics", __name__)


def init_app(app: Flask, readings: list[Reading]) -> None:
    """Serve `/metrics` for this app, with the database readings its areas declared."""
    app.extensions[EXTENSION] = tuple(readings)
    app.teardown_request(note_endpoint)
    app.register_blueprint(bp)


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an `Authorization` header is `Bearer <token>`, compared in constant time."""
    scheme, _, given = (authorization or "").partition(" ")
    # compare_digest takes as long whatever the first wrong byte: the token cannot be
    # guessed a byte at a time from response times.
    same = hmac.compare_digest(given.strip().encode(), token.encode())
    return scheme.lower() == "bearer" and same


@bp.get("/metrics")
def scrape():
    """The metrics in Prometheus' text format, for the bearer of METRICS_TOKEN only:
    404 when no token is set (the page does not exist), 401 with a missing or wrong one."""
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        abort(404)
    if not bearer_matches(request.headers.get("Authorization"), token):
        return Response(
            "a valid bearer token is required\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
            mimetype="text/plain",
        )
    body = generate_latest(Scrape(current_app.extensions[EXTENSION]))
    return Response(body, 200, {"Cache-Control": "no-store"}, content_type=CONTENT_TYPE_PLAIN_0_0_4)
