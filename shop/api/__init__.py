"""The JSON API under `/api/v1`: the same services as the pages, for scripts and apps."""

from flask import Flask

from ..notifications.worker import add_duty

#: Seconds between the worker's sweeps of idempotency keys past their 24 hours.
SWEEP_SECONDS = 600


def register(app: Flask) -> None:
    """The worker's duty for this area: forget idempotency keys past their 24 hours."""
    from .idempotency import forget_expired

    add_duty(app, "api.idempotency_keys", forget_expired, SWEEP_SECONDS)
