"""`Idempotency-Key` on the JSON API's POSTs, as Stripe's API has it.

The first request with a key claims it (a row, unique per token and key; a claim left
without an answer for ABANDONED is free again) and its answer is kept; the same key with
the same request (method, path and body) answers that again, with `Idempotent-Replayed:
true`; with another request, or while the first is still running, a 409. Keys last KEPT
(24 hours). An answer of 5xx is not kept (the key is freed: a retry runs again), nor is a
refusal of the input itself (400, 422): the request did nothing.
"""

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import Response, make_response, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import utcnow
from ..problems import Problem
from .access import caller_token
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEPT = timedelta(hours=24)
#: A claim with no answer after this long was left by a request that died (a killed
#: worker): the key may be claimed again. Longer than any request runs.
ABANDONED = timedelta(minutes=2)
KEY_MAX = 255
#: What a key may hold: visible ASCII, no spaces (a UUID, a hash, an order number...).
KEY_PATTERN = r"^[\x21-\x7E]+$"
_KEY = re.compile(KEY_PATTERN)
#: Answers that refuse the input itself: fixing the body and retrying with the key runs.
NOT_KEPT = frozenset({400, 422})


def request_hash() -> str:
    """What makes two requests "the same": the method, the path and the raw body."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _key() -> str | None:
    """The request's key; a 400 for an empty or overlong one."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if len(key) > KEY_MAX or not _KEY.match(key):
        raise Problem(400, f"An {HEADER} is 1 to {KEY_MAX} visible ASCII characters, no spaces.")
    return key


def _claim(token_id: int, key: str, fingerprint: str) -> Response | None:
    """None when this request now holds the key; else the kept answer, or a 409."""
    for _attempt in range(2):
        row = db.session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.token_id == token_id, IdempotencyKey.key == key
            )
        )
        now = utcnow()
        expired = row is not None and row.created_at <= now - KEPT
        abandoned = row is not None and row.status is None and row.created_at <= now - ABANDONED
        if expired or abandoned:
            db.session.delete(row)  # the key is new again
            db.session.flush()
            row = None
        if row is None:
            db.session.add(IdempotencyKey(token_id=token_id, key=key, request_hash=fingerprint))
            try:
                db.session.commit()
            except IntegrityError:  # a request with the same key claimed it first
                db.session.rollback()
                continue
            return None
        found = (row.request_hash, row.status, row.body, row.content_type)
        db.session.rollback()
        if found[0] != fingerprint:
            raise Problem(
                409,
                f"This {HEADER} was used for another request; use a new key for a new request.",
            )
        if found[1] is None:
            raise Problem(
                409,
                f"A request with this {HEADER} is still running; retry in a moment.",
                headers={"Retry-After": "1"},
            )
        replay = Response(found[2], found[1], content_type=found[3])
        replay.headers[REPLAYED] = "true"
        return replay
    raise Problem(409, f"A request with this {HEADER} is still running; retry in a moment.")


def _keep(token_id: int, key: str, response: Response) -> None:
    """Keep the answer for the key, or free the key after a 5xx or a refused input."""
    db.session.rollback()
    where = (IdempotencyKey.token_id == token_id, IdempotencyKey.key == key)
    if response.status_code >= 500 or response.status_code in NOT_KEPT:
        db.session.execute(delete(IdempotencyKey).where(*where))
    else:
        db.session.execute(
            update(IdempotencyKey)
            .where(*where)
            .values(
                status=response.status_code,
                body=response.get_data(as_text=True),
                content_type=response.content_type,
            )
        )
    db.session.commit()


def _free(token_id: int, key: str) -> None:
    """Forget a claim whose request did not run to an answer."""
    db.session.rollback()
    db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.token_id == token_id, IdempotencyKey.key == key)
    )
    db.session.commit()


def idempotent(view: Callable) -> Callable:
    """Answer a repeated `Idempotency-Key` as the module says (the view runs once per key)."""

    @wraps(view)
    def once(*args, **kwargs):
        key, token_id = _key(), caller_token()
        if key is None or token_id is None:
            return view(*args, **kwargs)
        kept = _claim(token_id, key, request_hash())
        if kept is not None:
            return kept
        try:
            response = make_response(view(*args, **kwargs))
        except Problem as refusal:
            response = refusal.response()
        except BaseException:
            _free(token_id, key)
            raise
        _keep(token_id, key, response)
        return response

    return once


def forget_expired() -> int:
    """Delete keys older than KEPT (the worker's duty); how many."""
    gone = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at <= utcnow() - KEPT)
    ).rowcount
    db.session.commit()
    return gone
