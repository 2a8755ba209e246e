"""`flask payments reconcile`: ask Stripe for the events the shop handles and apply every
one it has not recorded, through the same idempotent handlers as the webhook.

A webhook endpoint that was down, misconfigured or signing with an old secret loses
nothing: run this (from the PaaS scheduler, hourly) and what Stripe sent in vain is
applied now. An event already applied, by the webhook or an earlier run, changes nothing.
"""

import time
from dataclasses import dataclass, field

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from . import gateway, translate, webhooks

payments_cli = AppGroup("payments", help="Payments: catch up with Stripe.")

#: How far back `reconcile` looks by default (Stripe keeps events for 30 days).
DEFAULT_HOURS = 72


@dataclass
class Report:
    """What one run found: events applied, already recorded, refused, failed."""

    applied: list[str] = field(default_factory=list)
    recorded: int = 0
    refused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def describe(event: dict) -> str:
    """One line about an event: id, type and, for a Checkout event, the order it concerns."""
    line = f"{event['id']} {event['type']}"
    try:
        typed = translate.event(event, "reconcile")
    except translate.Malformed:
        return line
    order_id = getattr(getattr(typed, "session", None), "order_id", None)
    return f"{line} (order {order_id})" if order_id else line


def reconcile(since_hours: float = DEFAULT_HOURS) -> Report:
    """Apply every event of a handled type since `since_hours` ago that is not recorded."""
    types = sorted(current_app.extensions[webhooks.EXTENSION])
    report = Report()
    if not types:
        return report
    created_gte = int(time.time() - since_hours * 3600)
    events = gateway.list_events(types, created_gte)
    for event in events:
        if not webhooks.is_event(event):
            report.refused.append(str(event.get("id")))
            continue
        if webhooks.already_recorded(event["id"]):
            db.session.rollback()
            report.recorded += 1
            continue
        outcome = webhooks.handle(event, via="reconcile")
        if outcome.status == 200 and "duplicate" in outcome.message:
            report.recorded += 1  # the webhook brought it a moment ago
        elif outcome.status == 200:
            report.applied.append(describe(event))
        elif outcome.status == 400:
            report.refused.append(describe(event))
        else:
            report.failed.append(describe(event))
    return report


@payments_cli.command("reconcile")
@click.option(
    "--since",
    "hours",
    type=click.FloatRange(min=0, min_open=True, max=30 * 24),
    default=DEFAULT_HOURS,
    show_default=True,
    help="How many hours back to ask Stripe for events (at most 720, Stripe's 30 days).",
)
def reconcile_command(hours: float) -> None:
    """Apply the Stripe events the shop handles that it has not recorded yet."""
    try:
        report = reconcile(hours)
    except gateway.PaymentsError as error:
        raise click.ClickException(f"Stripe could not be asked: {error.message}") from None
    for line in report.applied:
        click.echo(f"applied {line}")
    for line in report.refused:
        click.echo(f"refused (malformed) {line}")
    for line in report.failed:
        click.echo(f"FAILED {line}; run again later")
    click.echo(
        f"reconcile: {len(report.applied)} applied, {report.recorded} already recorded, "
        f"{len(report.refused)} refused, {len(report.failed)} failed"
    )
    if report.failed:
        raise SystemExit(1)
