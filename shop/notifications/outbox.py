"""The one way into the outbox: `enqueue`, in the caller's transaction, once per cause; and
how many messages stand at each status, for the admin's health panel and /metrics."""

import json
import secrets
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

from flask import current_app
from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.dialects import postgresql, sqlite

from .. import metrics
from ..extensions import db
from .messages import KINDS
from .models import OutboxMessage, OutboxStatus

#: INSERT ... ON CONFLICT DO NOTHING, as each dialect the shop runs on spells it.
INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def message_id(kind: str, domain: str) -> str:
    """`<receipt.3f9c2a1b5d7e9f01@shop.example>`: unique (64 random bits), saying its kind,
    and short enough that the header never folds, whatever the shop's domain."""
    return f"<{kind}.{secrets.token_hex(8)}@{domain}>"


def enqueue(
    kind: str,
    recipient: str,
    context: Mapping[str, Any],
    cause: str,
    order_id: int | None = None,
) -> bool:
    """Owe `recipient` a message of `kind` saying `context`, because of `cause`; True if this
    call added it, False if that cause already has its message.

    Call it in the transaction of the change that causes the message, before its commit:
    the message then exists exactly when the change does. `context` must be plain JSON
    values (it is rendered later, by the worker); `cause` names the change once, e.g.
    "order:12:receipt". Nothing is sent here and nothing here can fail on SMTP.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}; known: {sorted(KINDS)}")
    snapshot = json.loads(json.dumps(context))  # refuse what JSON cannot hold now, not later
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    insert = INSERTS[db.session.get_bind().dialect.name]
    statement = (
        insert(OutboxMessage)
        .values(
            cause=cause,
            kind=kind,
            recipient=recipient,
            context=snapshot,
            order_id=order_id,
            message_id=message_id(kind, domain),
        )
        .on_conflict_do_nothing(index_elements=["cause"])
        .returning(OutboxMessage.id)  # a row comes back only if one was inserted
    )
    # Lock: the unique index on `cause`. Of two transactions enqueueing one cause, the second
    # waits for the first to commit, then inserts nothing (or inserts if the first rolled back).
    return db.session.execute(statement).scalar() is not None


def count(status: OutboxStatus) -> ScalarSelect:
    """How many messages stand at `status` (an index-only count: ix_outbox_status)."""
    return (
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == status)
        .scalar_subquery()
    )


def readings() -> list[metrics.Reading]:
    """What /metrics reads from the outbox at each scrape. Emails are counted from their
    rows, not in the worker: the worker is a process of its own (on a PaaS, a dyno of its
    own) that nobody scrapes, and the rows are the same seen from any web dyno."""
    emails = "Emails the worker sent, or gave up on (failed for good), by status."
    return [
        metrics.Reading(
            "shop_outbox_backlog",
            "Emails waiting to be sent: due now, or retrying after a failed try.",
            lambda: count(OutboxStatus.PENDING),
        ),
        *(
            metrics.Reading(
                "shop_emails",
                emails,
                lambda status=status: count(status),
                kind="counter",
                labels={"status": str(status)},
            )
            for status in (OutboxStatus.SENT, OutboxStatus.FAILED)
        ),
    ]
