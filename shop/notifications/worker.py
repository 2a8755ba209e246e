"""The worker: claims due outbox rows, sends them, records how it went (`flask worker`).

A claim is one UPDATE that stamps a due row with a random token and a deadline
(`claimed_until`, MAIL_CLAIM_SECONDS ahead) and counts the attempt. It commits at once, so
no transaction and no pooled connection is held while SMTP talks; the outcome is written
afterwards by an UPDATE guarded by the token.

- PostgreSQL: the subquery picking the row says `FOR UPDATE SKIP LOCKED`, so workers
  claiming at the same moment each take a different row without queueing behind one
  another; after the commit, the claim's deadline is what keeps other workers away.
- SQLite (development) has no SKIP LOCKED and needs none: it has one writer at a time,
  and an UPDATE takes the write lock before it reads, so its WHERE (due, unclaimed) is
  checked against the latest commit and two workers can never claim one row.

A worker killed in the middle of a send leaves its claim to run out; the row is then due
again and another worker retries it, with the same Message-ID. SIGTERM lets the message in
hand finish first. The database is the queue: rows are written in the transaction of
their cause, so no second store (Redis for RQ, say) can lose or invent a message.
"""

import logging
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import utcnow
from . import messages
from .messages import Outgoing
from .models import OutboxMessage, OutboxStatus
from .transport import SendFailed, Transport, transport_for

log = logging.getLogger(__name__)

#: The longest wait between two tries of one message, however many failed before.
RETRY_CAP_SECONDS = 3600
#: Seconds between two runs of a duty the areas register (orders: settling pending orders
#: past their session's expiry when no webhook came, so their stock goes back on sale).
DUTY_SECONDS = 60
#: Where an app keeps what the areas asked of the worker (the worker imports no area).
DUTIES, FAILURE_HOOKS = "notifications.duties", "notifications.on_failed_for_good"
#: What a worker needs in production, as (variable, config key).
PRODUCTION_NEEDS = (("MAIL_URL", "MAIL_SERVER"), ("PUBLIC_URL", "PUBLIC_URL"))


@dataclass(frozen=True)
class Duty:
    """Something the worker runs every `every` seconds beside sending, for an area."""

    name: str
    run: Callable[[], None]
    every: float = DUTY_SECONDS


def add_duty(app: Flask, name: str, run: Callable[[], None], every: float = DUTY_SECONDS):
    """Have the worker run `run()` every `every` seconds (it logs and survives a failure)."""
    duties = app.extensions.setdefault(DUTIES, {})
    duties[name] = Duty(name, run, every)


def on_failed_for_good(app: Flask, hook: Callable[[Outgoing, str], None]) -> None:
    """Call `hook(message, why)` in the transaction that marks a message failed for good."""
    hooks = app.extensions.setdefault(FAILURE_HOOKS, [])
    if hook not in hooks:
        hooks.append(hook)


@dataclass(frozen=True)
class Policy:
    """How often to look, how long a claim lasts, how often and how late to retry."""

    max_attempts: int
    retry_seconds: float
    claim_seconds: float
    poll_seconds: float

    @classmethod
    def of(cls, config: dict[str, Any]) -> "Policy":
        """The policy the app's MAIL_* settings describe."""
        return cls(
            max_attempts=config["MAIL_MAX_ATTEMPTS"],
            retry_seconds=config["MAIL_RETRY_SECONDS"],
            claim_seconds=config["MAIL_CLAIM_SECONDS"],
            poll_seconds=config["MAIL_POLL_SECONDS"],
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failure: doubling from MAIL_RETRY_SECONDS, capped."""
        return timedelta(seconds=min(self.retry_seconds * 2 ** (attempts - 1), RETRY_CAP_SECONDS))


def _due(now: datetime) -> tuple:
    """Conditions of a row a worker may claim: pending, its time come, no live claim."""
    return (
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
    )


def claim_next(policy: Policy) -> Outgoing | None:
    """Claim the message due longest and commit the claim; None when nothing is due."""
    now, token = utcnow(), secrets.token_hex(16)
    pick = (
        select(OutboxMessage.id)
        .where(*_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite renders nothing
        .scalar_subquery()
    )
    # Lock: FOR UPDATE SKIP LOCKED on PostgreSQL (racing workers lock different rows), the
    # single writer on SQLite; the WHERE is repeated so only a due, unclaimed row is taken.
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id == pick, *_due(now))
        .values(
            claim_token=token,
            claimed_until=now + timedelta(seconds=policy.claim_seconds),
            attempts=OutboxMessage.attempts + 1,
            updated_at=now,
        )
        .returning(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.recipient,
            OutboxMessage.context,
            OutboxMessage.message_id,
            OutboxMessage.created_at,
            OutboxMessage.order_id,
            OutboxMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    row = db.session.execute(statement).one_or_none()
    db.session.commit()  # the claim stands on its own: SMTP is talked to outside any transaction
    return None if row is None else Outgoing(**row._mapping, claim_token=token)


def _settle(message: Outgoing, **values: Any) -> bool:
    """Write the outcome of a send and drop the claim; False if the claim was lost."""
    # Lock: the claim token. Only the worker holding the claim records an outcome; one whose
    # claim ran out (and was taken over) changes nothing.
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.claim_token == message.claim_token)
        .values(claim_token=None, claimed_until=None, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1


def record_sent(message: Outgoing) -> None:
    """The message went out: mark it sent."""
    if not _settle(message, status=OutboxStatus.SENT, sent_at=utcnow(), last_error=""):
        log.warning("outbox: claim lost before recording a send", extra=_fields(message))
    db.session.commit()


def record_failure(message: Outgoing, error: SendFailed, policy: Policy) -> bool:
    """The message did not go out: retry it after a backoff, or, refused for good or out of
    attempts, mark it failed and say so on its order's timeline. True if it failed for good."""
    final = error.permanent or message.attempts >= policy.max_attempts
    if final:
        values: dict[str, Any] = {"status": OutboxStatus.FAILED}
    else:
        values = {"next_attempt_at": utcnow() + policy.backoff(message.attempts)}
    settled = _settle(message, last_error=str(error)[:2000], **values)
    if settled and final:
        why = "refused" if error.permanent else f"not sent after {message.attempts} attempts"
        for hook in current_app.extensions.get(FAILURE_HOOKS, []):
            hook(message, f"{why}: {error}")
    db.session.commit()  # the outcome and what the areas noted of it (a timeline), together
    return settled and final


def _fields(message: Outgoing, **extra: Any) -> dict[str, Any]:
    """Log fields naming a message without its content or recipient."""
    fields = {"outbox_id": message.id, "kind": message.kind, "attempt": message.attempts}
    return {"fields": {**fields, **extra}}


class Worker:
    """Sends due messages, one at a time, until `stop` is set."""

    def __init__(self, app: Flask, transport: Transport, stop: threading.Event):
        self.app = app
        self.transport = transport
        self.stop = stop
        self.policy = Policy.of(app.config)

    def run(self) -> None:
        """Send what is due, look again every MAIL_POLL_SECONDS when nothing is, and run
        each registered duty on its own schedule, until stopped."""
        with self.app.app_context():
            transport = type(self.transport).__name__
            log.info("worker started", extra={"fields": {"transport": transport}})
            duties = list(self.app.extensions.get(DUTIES, {}).values())
            due_at = {duty.name: time.monotonic() for duty in duties}
            while not self.stop.is_set():
                for duty in duties:
                    if time.monotonic() >= due_at[duty.name]:
                        self.run_duty(duty)
                        due_at[duty.name] = time.monotonic() + duty.every
                if not self.send_next():
                    self.stop.wait(self.policy.poll_seconds)
            log.info("worker stopped")

    def run_duty(self, duty: Duty) -> None:
        """Run one duty; a failure (the database or Stripe away) waits for its next run."""
        try:
            duty.run()
        except Exception:
            db.session.rollback()
            log.exception("worker: %s failed; trying again later", duty.name)

    def send_next(self) -> bool:
        """Claim, send and record one due message; False when none was due (or the database
        could not be asked)."""
        try:
            message = claim_next(self.policy)
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("outbox: cannot claim (database unreachable?); trying again shortly")
            return False
        if message is None:
            return False
        failure: SendFailed | None = None
        try:
            self.transport.send(messages.render(message))
        except SendFailed as error:
            failure = error
        except Exception as error:  # a template or context the renderer cannot use
            log.exception("outbox: cannot render", extra=_fields(message))
            failure = SendFailed(f"cannot render: {error!r}")
        self._record(message, failure)
        return True

    def _record(self, message: Outgoing, failure: SendFailed | None) -> None:
        """Write down how the send went; if the database is away, the claim runs out and
        the message is tried again (a sent one may then go twice, with one Message-ID)."""
        try:
            if failure is None:
                record_sent(message)
                log.info("mail sent", extra=_fields(message))
            elif record_failure(message, failure, self.policy):
                log.error("mail failed for good", extra=_fields(message, error=str(failure)))
            else:
                log.warning("mail not sent; will retry", extra=_fields(message, error=str(failure)))
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("outbox: cannot record the outcome", extra=_fields(message))


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Send the outbox until SIGTERM or Ctrl-C, finishing the message in hand first."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["PRODUCTION"]:
        for variable, key in PRODUCTION_NEEDS:
            if not app.config[key]:
                raise click.ClickException(
                    f"Configuration error: {variable} is not set: the worker needs it in production"
                )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Only a flag: the send in hand runs to its end, then the loop sees it and stops.
        signal.signal(signum, lambda *_: stop.set())
    Worker(app, transport_for(app), stop).run()
