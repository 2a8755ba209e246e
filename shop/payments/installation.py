"""The webhook secret of a public demo: generated once per installation, kept server-side.

On the emulator in production with no STRIPE_WEBHOOK_SECRET, nothing outside the shop
needs to know the secret (the emulator signs its deliveries in the same process that
verifies them), but it must not be one anybody can read in the source. The first process
to need it generates a random one and stores it in `installation_secrets`; every other
worker and dyno reads that row, so all of them sign and verify alike. It is resolved when
an application context is first pushed after the table exists (the release phase runs
before it does), and kept in the app's config from then on.
"""

import secrets
from collections.abc import Callable

from flask import Flask, appcontext_pushed
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..extensions import db
from ..models import utcnow
from .models import InstallationSecret

WEBHOOK_SECRET = "stripe_webhook_secret"


def init_app(app: Flask) -> None:
    """Resolve a missing webhook secret from the database as soon as it can be."""
    if app.config["STRIPE_WEBHOOK_SECRET"] is None:
        appcontext_pushed.connect(resolve_webhook_secret, app, weak=False)


def resolve_webhook_secret(app: Flask, **_) -> None:
    """Fill STRIPE_WEBHOOK_SECRET from the installation's stored secret, once."""
    if app.config["STRIPE_WEBHOOK_SECRET"] is not None:
        return
    try:
        app.config["STRIPE_WEBHOOK_SECRET"] = installation_secret(WEBHOOK_SECRET)
    except SQLAlchemyError:
        # Not migrated yet (the release phase) or the database is away: try again at the
        # next context; meanwhile the webhook answers 503 and nothing is signed.
        app.logger.debug("installation secret not readable yet", exc_info=True)


def installation_secret(name: str, make: Callable[[], str] | None = None) -> str:
    """The value called `name`, made (by default a webhook secret) and stored by the first
    process to ask; every later one reads it."""
    stored = installation_value(name)
    if stored is not None:
        return stored
    return store_once(name, (make or _webhook_secret)())


def _webhook_secret() -> str:
    """A fresh webhook signing secret."""
    return "whsec_" + secrets.token_urlsafe(32)


def installation_value(name: str) -> str | None:
    """The stored value called `name`, if one is."""
    table = InstallationSecret.__table__
    with db.engine.connect() as conn:
        return conn.scalar(select(table.c.value).where(table.c.name == name))


def store_once(name: str, value: str) -> str:
    """Store `value` as `name` unless another process stored one first; the one kept."""
    table = InstallationSecret.__table__
    lookup = select(table.c.value).where(table.c.name == name)
    try:
        with db.engine.begin() as conn:
            conn.execute(table.insert().values(name=name, value=value, created_at=utcnow()))
    except IntegrityError:
        # Lock: the primary key on `name`; another process stored its secret first.
        with db.engine.connect() as conn:
            return conn.scalar(lookup)
    return value
