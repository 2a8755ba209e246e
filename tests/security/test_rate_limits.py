"""Abuse limits at their production values: failed logins, registrations, checkout per user.

Each test gets a fresh app and so fresh in-memory counters; the Redis tests use their own
addresses and emails, since Redis keeps counts between runs.
"""

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import PASSWORD, app_config, csrf_token, first_count, redis_url
from shop import create_app
from shop.config import RATE_LIMITS
from shop.extensions import limiter
from shop.security import UNLIMITED_METHODS, reads_are_unlimited

WRONG = "not the password"


IP_FAILURES = first_count("LOGIN_IP_RATE_LIMIT")
IP_REGISTRATIONS = first_count("REGISTER_IP_RATE_LIMIT")
CHECKOUTS = first_count("CHECKOUT_RATE_LIMIT")
ADMIN_ACTIONS = first_count("ADMIN_RATE_LIMIT")
ROOT = str(Path(__file__).resolve().parents[2])


def post_login(client, email, password=WRONG, ip="127.0.0.1"):
    """One login attempt from `ip` (the token is fetched from that same address)."""
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def post_register(client, email, ip="127.0.0.1"):
    """One registration attempt from `ip`."""
    token = csrf_token(client, "/register")
    data = {"email": email, "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token}
    return client.post("/register", data=data, environ_base={"REMOTE_ADDR": ip})


def assert_throttled(response, reason: str):
    """A 429 a customer can read, saying when to come back."""
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60 * 60 * 24
    text = response.get_data(as_text=True)
    assert reason in text and f"wait {seconds} seconds" in text


def test_production_limits_are_the_documented_ones():
    assert RATE_LIMITS["LOGIN_ACCOUNT_RATE_LIMIT"] == "10 per minute"


def test_ten_failed_logins_a_minute_lock_the_account_even_for_the_right_password(auth, client):
    auth.create_user()
    for _ in range(10):
        assert post_login(client, "ada@example.com").status_code == 422
    assert_throttled(post_login(client, "ada@example.com"), "Too many failed logins")
    # Typed differently, it is the same account.
    assert_throttled(post_login(client, " ADA@example.com", PASSWORD), "for this account")
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_a_locked_account_does_not_lock_others_on_the_same_network(auth, client):
    auth.create_user()
    auth.create_user("grace@example.com")
    for _ in range(11):
        post_login(client, "ada@example.com")
    assert post_login(client, "grace@example.com", PASSWORD).status_code == 302


def test_successful_logins_do_not_count(auth, client):
    auth.create_user()
    for _ in range(12):
        assert post_login(client, "ada@example.com", PASSWORD).status_code == 302
        auth.logout()
    for _ in range(9):
        assert post_login(client, "ada@example.com").status_code == 422
    assert post_login(client, "ada@example.com", PASSWORD).status_code == 302
    auth.logout()
    assert post_login(client, "ada@example.com").status_code == 422  # the tenth failure
    assert post_login(client, "ada@example.com").status_code == 429


def test_showing_the_login_form_is_never_throttled(auth, client):
    for _ in range(11):
        post_login(client, "ada@example.com")
    assert client.get("/login").status_code == 200


def test_failures_per_ip_are_limited_more_generously(client):
    assert IP_FAILURES > 10  # more generous than per account
    for n in range(IP_FAILURES):
        assert post_login(client, f"user{n}@example.com", ip="203.0.113.5").status_code == 422
    assert_throttled(
        post_login(client, "another@example.com", ip="203.0.113.5"), "from your network"
    )
    assert post_login(client, "another@example.com", ip="203.0.113.6").status_code == 422


def test_the_lock_lifts_when_the_window_has_passed(migrated):
    app = create_app(app_config(migrated, LOGIN_ACCOUNT_RATE_LIMIT="2 per second"))
    client = app.test_client()
    for _ in range(2):
        assert post_login(client, "ada@example.com").status_code == 422
    response = post_login(client, "ada@example.com")
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    time.sleep(1.1)
    assert post_login(client, "ada@example.com").status_code == 422


def test_registration_is_limited_per_email(app, client):
    for _ in range(5):
        assert post_register(client, "taken@example.com").status_code in (302, 422)
        client.post("/logout", data={"csrf_token": csrf_token(client)})
    response = post_register(client, "TAKEN@example.com", ip="198.51.100.1")
    assert_throttled(response, "registration attempts for this email")


def test_registration_is_limited_per_ip(client):
    for n in range(IP_REGISTRATIONS):
        response = post_register(client, f"new{n}@example.com", ip="203.0.113.9")
        assert response.status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert_throttled(
        post_register(client, "one-more@example.com", ip="203.0.113.9"), "from your network"
    )
    assert post_register(client, "elsewhere@example.com", ip="203.0.113.10").status_code == 302


def test_checkout_is_limited_per_signed_in_user(app, auth):
    assert CHECKOUTS >= 50  # above the "fifty parallel clicks" the shop must absorb
    ada, grace = app.test_client(), app.test_client()
    auth.create_user()
    auth.create_user("grace@example.com")
    for client, email in ((ada, "ada@example.com"), (grace, "grace@example.com")):
        assert post_login(client, email, PASSWORD).status_code == 302
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_token(ada)}
    for _ in range(CHECKOUTS):
        assert ada.post("/checkout", headers=headers).status_code == 409  # empty cart
    response = ada.post("/checkout", headers=headers)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert response.headers["HX-Retarget"] == "#toasts"
    assert "Too many checkout attempts" in response.get_data(as_text=True)
    grace_headers = {"X-CSRFToken": csrf_token(grace)}
    assert grace.post("/checkout", headers=grace_headers).status_code == 409


def test_admin_actions_are_limited_per_admin_and_pages_are_not(app, auth):
    assert RATE_LIMITS["ADMIN_RATE_LIMIT"] == "60 per minute"
    boss, deputy = app.test_client(), app.test_client()
    for client, email in ((boss, "boss@example.com"), (deputy, "deputy@example.com")):
        auth.create_admin(email)
        assert post_login(client, email, PASSWORD).status_code == 302
    data = {"csrf_token": csrf_token(boss, "/admin")}
    for _ in range(ADMIN_ACTIONS):
        assert boss.post("/admin/orders/999/shipment", data=data).status_code == 404
    response = boss.post("/admin/orders/999/shipment", data=data)
    assert_throttled(response, "Too many admin actions.")
    assert boss.get("/admin/orders").status_code == 200  # reading is never limited
    deputy_data = {"csrf_token": csrf_token(deputy, "/admin")}
    assert deputy.post("/admin/orders/999/shipment", data=deputy_data).status_code == 404


# --- Redis storage -------------------------------------------------------------------------


FAIL_IN_ANOTHER_PROCESS = """
import sys
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]
from conftest import app_config
from shop import create_app
app = create_app(app_config(sys.argv[2], RATELIMIT_STORAGE_URI=sys.argv[3]))
client = app.test_client()
page = client.get("/login", environ_base={"REMOTE_ADDR": sys.argv[5]}).get_data(as_text=True)
token = page.split('name="csrf-token" content="')[1].split('"')[0]
for _ in range(5):
    response = client.post("/login", environ_base={"REMOTE_ADDR": sys.argv[5]},
        data={"email": sys.argv[4], "password": "wrong password", "csrf_token": token})
    assert response.status_code == 422, response.status_code
"""


def test_with_redis_every_worker_counts_the_same_failures(migrated):
    url = redis_url()
    email, ip = f"{uuid.uuid4().hex}@example.com", f"10.{uuid.uuid4().int % 250}.0.1"
    # Five failures in another process (another gunicorn worker, as far as limits go)...
    subprocess.run(
        [sys.executable, "-c", FAIL_IN_ANOTHER_PROCESS, ROOT, migrated, url, email, ip],
        check=True,
        timeout=60,
    )
    # ...and five here make ten: the eleventh is refused.
    app = create_app(app_config(migrated, RATELIMIT_STORAGE_URI=url))
    client = app.test_client()
    for _ in range(5):
        assert post_login(client, email, ip=ip).status_code == 422
    assert post_login(client, email, ip=ip).status_code == 429


@pytest.fixture
def dead_redis_app(migrated):
    """An app whose Redis does not answer (nothing listens on port 1)."""
    yield create_app(app_config(migrated, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0"))
    limiter._storage_dead = False  # the shared extension must not stay in fallback mode


def test_when_redis_is_down_limits_still_hold_in_memory(dead_redis_app):
    client = dead_redis_app.test_client()
    for _ in range(10):
        assert post_login(client, "ada@example.com").status_code == 422
    assert post_login(client, "ada@example.com").status_code == 429


def test_every_declared_limit_counts_posts_only_so_reads_may_skip_the_limiter(app):
    # shop.security exempts GET, HEAD and OPTIONS from the limiter altogether; that is only
    # right while no limit counts them. A limit on a GET route would fail this test (the
    # OPTIONS Flask answers by itself on every route does nothing worth counting).
    manager = limiter.limit_manager
    views = {
        rule.endpoint: (app.view_functions[rule.endpoint], rule.methods)
        for rule in app.url_map.iter_rules()
    }
    checked = []
    for name, groups in manager._decorated_limits.items():
        endpoints = [
            endpoint
            for endpoint, (view, _) in views.items()
            if name.startswith(view.__module__ + ".") and name.endswith("." + view.__name__)
        ]
        assert endpoints, f"no route found for the limited view {name}"
        for group in groups:
            for endpoint in endpoints:
                methods = (
                    {m.upper() for m in group.methods} if group.methods else views[endpoint][1]
                )
                assert not methods & (UNLIMITED_METHODS - {"OPTIONS"}), (name, endpoint, methods)
                checked.append(endpoint)
    for blueprint, groups in manager._blueprint_limits.items():
        for group in groups:
            assert group.methods and {m.upper() for m in group.methods} == {"POST"}, blueprint
            checked.append(blueprint)
    assert {"auth.login", "auth.register", "checkout.start", "admin"} <= set(checked)


def test_reads_skip_the_limiter_and_posts_do_not(app):
    with app.test_request_context("/", method="GET"):
        assert reads_are_unlimited()
    with app.test_request_context("/login", method="POST"):
        assert not reads_are_unlimited()
