"""Admin commands: `flask seed`, `flask create-admin EMAIL`, `flask demo-user`,
`flask demo-admin`, `flask demo-ready` (what `make run` prints last), and the `flask worker`
process that sends the outbox."""

import sys
import time
import urllib.request
from pathlib import Path
from urllib.error import URLError

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .auth import passwords
from .auth import services as auth_services
from .catalog import services as catalog_services
from .notifications.worker import worker_command
from .promotions import services as promotion_services

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"
DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "admin-password"
#: The demo promotion code `make run` makes: 10% off any order, no limit.
DEMO_CODE, DEMO_CODE_PERCENT = "WELCOME10", 10


def register(app: Flask) -> None:
    """Attach the commands to the app's `flask` CLI."""
    app.cli.add_command(seed)
    app.cli.add_command(create_admin)
    app.cli.add_command(demo_user)
    app.cli.add_command(worker_command)
    app.cli.add_command(demo_admin)
    app.cli.add_command(demo_ready)
    app.cli.add_command(demo_code)


@click.command("seed")
@with_appcontext
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=catalog_services.SEED_FILE,
    show_default=True,
    help="JSON list of products to load.",
)
def seed(path: Path) -> None:
    """Load the product list: add new SKUs, update changed ones, deactivate dropped ones."""
    try:
        entries = catalog_services.read_seed_file(path)
    except catalog_services.SeedError as error:
        raise click.ClickException(str(error)) from None
    report = catalog_services.seed_products(entries, current_app.config["SHOP_CURRENCIES"])
    for label, skus in (
        ("added", report.added),
        ("stock set", report.stocked),
        ("updated", report.updated),
        ("deactivated", report.deactivated),
    ):
        click.echo(f"{label}: {len(skus)}" + (f" ({', '.join(skus)})" if skus else ""))
    click.echo(f"unchanged: {report.unchanged}")
    for missing in report.unpriced:
        sku, code = missing.split(": ")
        click.echo(
            f"warning: {sku} has no price in {code.upper()}: it is shown to customers "
            f"shopping in {code.upper()}, but cannot be bought in it",
            err=True,
        )


def _read_password() -> str:
    """A password from a hidden prompt on a terminal, or the first line of stdin."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command("create-admin")
@with_appcontext
@click.argument("email")
def create_admin(email: str) -> None:
    """Create an admin, or promote an existing user (password from a prompt or stdin)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise click.ClickException(f"not a valid email address: {error}") from None
    existing = auth_services.find_user(email)
    password = _read_password()
    problem = passwords.problem(password, [email]) if existing is None or password else None
    if problem:
        raise click.ClickException(f"that password will not do: {problem}")
    user, created = auth_services.set_admin(
        email, password, current_app.config["PASSWORD_HASH_METHOD"]
    )
    click.echo(f"{'created' if created else 'promoted'} admin {user.email}")


def _development_only(what: str) -> None:
    """Refuse in production: a known password there would be anybody's account."""
    if current_app.config["PRODUCTION"]:
        raise click.ClickException(f"the {what} is for development only")


QUIET = click.option("--quiet", is_flag=True, help="Print nothing (make run prints it last).")


@click.command("demo-user")
@QUIET
@with_appcontext
def demo_user(quiet: bool) -> None:
    """Make sure the demo customer exists and print its login (development only)."""
    _development_only("demo customer")
    auth_services.ensure_user(DEMO_EMAIL, DEMO_PASSWORD, current_app.config["PASSWORD_HASH_METHOD"])
    if not quiet:
        click.echo(f"Demo customer: {DEMO_EMAIL} / password: {DEMO_PASSWORD}")


@click.command("demo-admin")
@QUIET
@with_appcontext
def demo_admin(quiet: bool) -> None:
    """Make sure the demo admin exists and print its login (development only)."""
    _development_only("demo admin")
    auth_services.set_admin(
        DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, current_app.config["PASSWORD_HASH_METHOD"]
    )
    if not quiet:
        click.echo(
            f"Demo admin: {DEMO_ADMIN_EMAIL} / password: {DEMO_ADMIN_PASSWORD} (open /admin)"
        )


@click.command("demo-code")
@QUIET
@with_appcontext
def demo_code(quiet: bool) -> None:
    """Make sure the demo promotion code exists (at Stripe too) and print it (development
    only)."""
    _development_only("demo promotion code")
    if promotion_services.find(DEMO_CODE) is None:
        new = promotion_services.NewPromotion(
            code=DEMO_CODE, percent_off=DEMO_CODE_PERCENT, amount_off_cents=None,
            currency=None, max_redemptions=None, expires_at=None, minimum_cents=None,
            first_order_only=False,
        )  # fmt: skip
        try:
            promotion_services.create(new, None)
        except (promotion_services.PromotionError, promotion_services.CodesUnavailable) as error:
            raise click.ClickException(f"the demo code could not be made: {error}") from None
    if not quiet:
        click.echo(f"Demo code: {DEMO_CODE} ({DEMO_CODE_PERCENT}% off; type it in the cart)")


@click.command("demo-ready")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True)
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for the shop.")
@with_appcontext
def demo_ready(url: str, wait: float) -> None:
    """Wait until the shop at URL answers /healthz, then print how to try it: the address,
    the demo logins, the test card and where emails go (development only). `make run` runs
    it beside the server, so this comes after the start-up lines, not scrolled away."""
    _development_only("demo summary")
    url = url.rstrip("/")
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                break
        except (URLError, OSError) as error:
            if time.monotonic() > deadline:
                message = f"the shop did not answer at {url} within {wait:g} s"
                raise click.ClickException(message) from error
            time.sleep(0.25)
    click.echo(demo_summary(url))


def demo_summary(url: str) -> str:
    """The block `flask demo-ready` prints once the shop answers."""
    config = current_app.config
    mail = (
        f"sent through {config['MAIL_SERVER'].host}"
        if config.get("MAIL_SERVER")
        else f"written as .eml files to {config['MAIL_DIRECTORY']}"
    )
    rows = [
        f"Northside Roastery is running at {url}/",
        f"  Customer   {DEMO_EMAIL} / {DEMO_PASSWORD}",
        f"  Admin      {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}  ({url}/admin)",
    ]
    if config["STRIPE_EMULATOR"]:
        rows.append("  Test card  4242 4242 4242 4242, any future date, any CVC (the emulator)")
    rows.append(f"  Code       {DEMO_CODE} ({DEMO_CODE_PERCENT}% off; type it in the cart)")
    offered = ", ".join(code.upper() for code in config["SHOP_CURRENCIES"])
    rows.append(f"  Currencies {offered} (switch in the header)")
    rows.append("  Languages  English, Deutsch (switch in the header)")
    rows.append(f"  API        {url}/api/docs (a token from {url}/account)")
    rows += [f"  Emails     {mail}", "  Stop with Ctrl+C."]
    rule = "-" * max(len(row) for row in rows)
    return "\n".join([rule, *rows, rule])
