"""Idempotency keys: the first answer to a key is kept and replayed, and a racing request
with the same key waits for it instead of doing the work twice (as Stripe does)."""

import json
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import errors
from .models import EmulatorIdempotencyKey
from .store import transaction


def replay(key: str, method: str, path: str, fingerprint: str) -> tuple[int, dict] | None:
    """The stored answer for an idempotency key, None if unused, or `idempotency_error`."""
    with transaction() as s:
        found = s.scalar(select(EmulatorIdempotencyKey).where(EmulatorIdempotencyKey.key == key))
        if found is None:
            return None
        if (found.method, found.path, found.fingerprint) != (method, path, fingerprint):
            raise errors.idempotency_conflict(key)
        return found.status_code, json.loads(found.response)


def run_once(
    key: str, method: str, path: str, fingerprint: str, execute: Callable[[Session], dict]
) -> tuple[int, dict, bool]:
    """Run `execute` under an idempotency key: (status, body, replayed).

    The key row is inserted first, so a concurrent request with the same key waits on
    the unique constraint and then replays this answer instead of running twice.
    Errors raised by `execute` write nothing and are stored as the key's answer.
    """
    try:
        with transaction() as s:
            # Lock: the key's unique index; a racing request waits on this insert, then replays.
            record = EmulatorIdempotencyKey(
                key=key, method=method, path=path, fingerprint=fingerprint,
                status_code=0, response="",
            )  # fmt: skip
            s.add(record)
            s.flush()
            try:
                status, body = 200, execute(s)
            except errors.ApiError as error:
                status, body = error.status, error.body()
            record.status_code, record.response = status, json.dumps(body)
        return status, body, False
    except IntegrityError:
        answer = replay(key, method, path, fingerprint)
        if answer is None:  # the other request failed and stored nothing
            raise errors.api_error("The request could not be completed; retry it.") from None
        return *answer, True
