"""Issue #22, finding 5: with Redis, every gunicorn worker counts the same failed logins:
4 workers allow an account's strangers 10 failures in all, not 10 each; and the owner's
own browser still signs in."""

import uuid

import pytest

from conftest import PASSWORD, csrf_token_of, redis_url

from .shop_server import RouterSession, start_server, stop_server, together

pytestmark = pytest.mark.postgres

BATCHES = (4, 4, 2)  # ten failures, up to four at once: one per worker


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):
    """The shop under gunicorn with 4 workers, counting rate limits in Redis."""
    settings = {"RATELIMIT_STORAGE_URI": redis_url()}
    running = start_server(database[0], tmp_path_factory.mktemp("gunicorn") / "web.log", **settings)
    yield running
    stop_server(running)


def stranger_attempt(server, email: str, address: str) -> int:
    """One wrong password from a new browser (its own connection) at `address`."""
    http = RouterSession()
    http.headers.update(
        {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": address,
            "Referer": f"https://{server.host}/login",
            "Connection": "close",  # the next attempt may land on any worker
        }
    )
    form = http.get(server.url("/login"), timeout=10)
    answer = http.post(
        server.url("/login"),
        data={"email": email, "password": "wrong password", "csrf_token": csrf_token_of(form.text)},
        allow_redirects=False,
        timeout=10,
    )
    return answer.status_code


def test_failed_logins_are_counted_once_across_four_workers(server):
    owner = server.add_customer()  # signed in once through the form: a known browser
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"  # Redis keeps counts
    answers = []
    for batch in BATCHES:
        statuses, _ = together(batch, lambda _: stranger_attempt(server, owner.email, address))
        answers += statuses
    more, _ = together(4, lambda _: stranger_attempt(server, owner.email, address))
    print(f"\nstrangers: first ten {answers}, then {more}")
    assert answers == [422] * 10
    assert more == [429] * 4  # per-worker counters would have allowed up to 40

    # The owner's browser, signed out, still signs in: strangers lock out strangers.
    for name in ("session", "remember_token"):
        owner.http.cookies.pop(name, None)
    form = owner.get("/login")
    back = owner.http.post(
        server.url("/login"),
        data={"email": owner.email, "password": PASSWORD, "csrf_token": csrf_token_of(form.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert back.status_code == 302, back.text[-500:]
