"""Accounts under attack: login timing, session renewal, session protection, logout."""

from statistics import median
from time import perf_counter

from conftest import PASSWORD
from shop.auth import services

TIMED_HASH = "pbkdf2:sha256:20000"  # slow enough that the hash, not the noise, dominates


def test_unknown_email_takes_as_long_as_a_wrong_password(app):
    with app.app_context():
        services.register_user("ada@example.com", PASSWORD, TIMED_HASH)

        def seconds(email: str) -> float:
            start = perf_counter()
            assert services.authenticate(email, "not the password", TIMED_HASH) is None
            return perf_counter() - start

        seconds("nobody@example.com")  # warm caches on both paths
        seconds("ada@example.com")
        known = median(seconds("ada@example.com") for _ in range(7))
        unknown = median(seconds("nobody@example.com") for _ in range(7))
    assert 0.5 < unknown / known < 2, (known, unknown)
