"""`decide`: what start_checkout does next with the customer's one pending slot, from the
pending order and the time alone (pure: no database, no Stripe)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from shop.checkout.services import (
    STALE_AFTER,
    STRIPE_MIN_LIFETIME,
    TAKEOVER_AFTER,
    Step,
    decide,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
LONG_AHEAD = NOW + timedelta(hours=1)  # an expiry that leaves Stripe's minimum lifetime


@dataclass(frozen=True)
class Pending:
    stripe_session_id: str | None
    created_at: datetime
    expires_at: datetime | None


def claimed(age: timedelta, expires_at: datetime | None = LONG_AHEAD, session=None) -> Pending:
    """A pending order claimed `age` ago."""
    return Pending(session, NOW - age, expires_at)


@pytest.mark.parametrize(
    ("pending", "step"),
    [
        # No pending order: the slot is free.
        (None, Step.CLAIM),
        # Its session exists, whatever its age: resume it (or close it for a changed cart).
        (claimed(SECOND, session="cs_1"), Step.RESUME),
        (claimed(STALE_AFTER * 10, session="cs_1"), Step.RESUME),
        (claimed(SECOND, expires_at=None, session="cs_1"), Step.RESUME),
        # No session yet, claimed just now: a peer is asking Stripe; wait.
        (claimed(timedelta(0)), Step.WAIT),
        (claimed(TAKEOVER_AFTER - SECOND), Step.WAIT),
        # Silent for TAKEOVER_AFTER: ask Stripe with the claim's own key...
        (claimed(TAKEOVER_AFTER), Step.TAKE_OVER),
        (claimed(STALE_AFTER - SECOND), Step.TAKE_OVER),
        # ...unless its expiry no longer leaves Stripe's minimum lifetime: wait for staleness.
        (claimed(TAKEOVER_AFTER, expires_at=NOW + STRIPE_MIN_LIFETIME - SECOND), Step.WAIT),
        (claimed(TAKEOVER_AFTER, expires_at=NOW + STRIPE_MIN_LIFETIME), Step.TAKE_OVER),
        (claimed(TAKEOVER_AFTER, expires_at=None), Step.WAIT),
        # Left by a crash: free the slot.
        (claimed(STALE_AFTER), Step.FREE_STALE),
        (claimed(STALE_AFTER * 10, expires_at=None), Step.FREE_STALE),
    ],
    ids=lambda value: value if isinstance(value, Step) else None,
)
def test_the_next_step_follows_from_the_slot_and_the_time(pending, step):
    assert decide(pending, NOW) is step


def test_the_thresholds_are_in_the_order_the_steps_need():
    assert timedelta(0) < TAKEOVER_AFTER < STALE_AFTER
