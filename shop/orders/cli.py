"""`flask orders expire-overdue`: settle pending orders whose session expired unreported."""

import click
from flask.cli import AppGroup

from . import expiry

orders_cli = AppGroup("orders", help="Orders: housekeeping a scheduler or the worker runs.")


@orders_cli.command("expire-overdue")
@click.option(
    "--no-stripe",
    is_flag=True,
    help="Expire overdue orders locally without asking Stripe (only long-overdue ones).",
)
def expire_overdue(no_stripe: bool) -> None:
    """Settle pending orders past their session's expiry: paid if Stripe says so, else
    expired, releasing the stock they hold. Safe to run any time."""
    report = expiry.settle_overdue(ask_stripe=not no_stripe)
    for label, ids in (("paid", report.paid), ("expired", report.expired)):
        click.echo(
            f"{label}: {len(ids)}" + (f" (orders {', '.join(map(str, ids))})" if ids else "")
        )
    if report.failed:
        click.echo(f"failed (left without a session by a crash): {len(report.failed)}")
    if report.skipped:
        click.echo(f"not settled yet (Stripe unreachable): {len(report.skipped)}")
