"""`flask emulator expire-due`, `flask emulator resend EVENT_ID` and
`flask emulator dispute ORDER_ID [--lose|--win]`."""

import time

import click
from flask import current_app
from flask.cli import AppGroup

from . import disputes, events

emulator_cli = AppGroup("emulator", help="The built-in Stripe emulator (no STRIPE_SECRET_KEY).")


def _require_emulator() -> None:
    """Refuse to touch emulator state when the app talks to real Stripe."""
    if not current_app.config["STRIPE_EMULATOR"]:
        raise click.ClickException("the Stripe emulator is off (STRIPE_SECRET_KEY is set)")


def _report(delivery: dict) -> None:
    """One line per delivery: event, type and the endpoint's answer."""
    click.echo(f"{delivery['event_id']} {delivery['type']} -> {delivery['status_code']}")


@emulator_cli.command("expire-due")
def expire_due() -> None:
    """Expire sessions past expires_at and deliver checkout.session.expired (and any
    other event not yet delivered). With STRIPE_EMULATOR_WEBHOOKS=0 the expiries are
    recorded (GET /v1/events shows them) and nothing is delivered."""
    _require_emulator()
    deliveries = events.expire_due()
    for delivery in deliveries:
        _report(delivery)
    note = "" if events.webhooks_on() else " (STRIPE_EMULATOR_WEBHOOKS=0: recorded only)"
    click.echo(f"delivered: {len(deliveries)}{note}")


@emulator_cli.command("resend")
@click.argument("event_id")
def resend(event_id: str) -> None:
    """Deliver a recorded event to /stripe/webhook (again), even with
    STRIPE_EMULATOR_WEBHOOKS=0: it is an explicit request to send this one event."""
    _require_emulator()
    try:
        _report(events.deliver(event_id))
    except LookupError as error:
        raise click.ClickException(str(error)) from None


@emulator_cli.command("dispute")
@click.argument("order_id", type=click.IntRange(min=1))
@click.option("--lose", "outcome", flag_value="lost", help="The bank decides for the customer.")
@click.option("--win", "outcome", flag_value="won", help="The bank decides for the shop.")
def dispute(order_id: int, outcome: str | None) -> None:
    """Open a dispute (chargeback) on a paid order's charge, for what was not refunded, and
    deliver charge.dispute.created; with --lose or --win, also its review and close."""
    _require_emulator()
    try:
        recorded = disputes.open_dispute(order_id, outcome, int(time.time()))
    except (LookupError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    for delivery in events.deliver_new(recorded):
        _report(delivery)
