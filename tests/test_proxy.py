"""Behind the PaaS router: forwarded scheme, host and address are trusted in production only."""

import re

import pytest

from conftest import PASSWORD, app_config, csrf_token, first_count
from shop import create_app
from shop.config import HSTS_SECONDS, load_config

FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "shop.example.com",
    "X-Forwarded-For": "203.0.113.7",
}


@pytest.fixture
def behind_router(migrated):
    """A test client of an app configured like production behind the router."""
    app = create_app(app_config(migrated, PROXY_FIX=True, HSTS_SECONDS=HSTS_SECONDS))
    return app.test_client()


def test_forwarded_https_makes_generated_urls_https(behind_router):
    page = behind_router.get("/", headers=FORWARDED).get_data(as_text=True)
    assert '<link rel="canonical" href="https://shop.example.com/">' in page


def test_hsts_is_sent_over_https_only(behind_router):
    secure = behind_router.get("/", headers=FORWARDED)
    assert secure.headers["Strict-Transport-Security"] == f"max-age={HSTS_SECONDS}"
    assert "Strict-Transport-Security" not in behind_router.get("/").headers


def test_the_clients_address_is_logged_not_the_routers(behind_router, capsys):
    capsys.readouterr()
    behind_router.get("/healthz", headers=FORWARDED)
    assert "remote_addr=203.0.113.7" in capsys.readouterr().out


def test_outside_production_forwarded_headers_are_ignored(client):
    response = client.get("/", headers=FORWARDED)
    assert '<link rel="canonical" href="http://localhost/">' in response.get_data(as_text=True)
    assert "Strict-Transport-Security" not in response.headers


def test_production_turns_on_the_router_settings_and_secure_cookies(tmp_path):
    demo = {"STRIPE_EMULATOR": "1", "PUBLIC_URL": "https://shop.example.com"}
    config = load_config(
        {"SECRET_KEY": "s", **demo, "RATELIMIT_STORAGE_URI": "memory://"}, str(tmp_path)
    )
    assert config["PROXY_FIX"] and config["HSTS_SECONDS"] >= HSTS_SECONDS
    assert config["PREFERRED_URL_SCHEME"] == "https"
    for cookie in ("SESSION", "REMEMBER"):
        assert config[f"{cookie}_COOKIE_SECURE"] and config[f"{cookie}_COOKIE_HTTPONLY"]
        assert config[f"{cookie}_COOKIE_SAMESITE"] == "Lax"
    development = load_config({"FLASK_DEBUG": "1"}, str(tmp_path))
    assert not development["PROXY_FIX"] and not development["HSTS_SECONDS"]


def app_with_hops(migrated, hops: int):
    return create_app(
        app_config(migrated, PROXY_FIX=True, FORWARDED_ALLOW_HOPS=hops, HSTS_SECONDS=0)
    ).test_client()


def logged_address(client, capsys, forwarded_for: str) -> str:
    capsys.readouterr()
    client.get(
        "/healthz",
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    )
    return re.search(r"remote_addr=(\S+)", capsys.readouterr().out).group(1)


def test_with_no_trusted_hop_a_forged_address_changes_nothing(migrated, capsys):
    """Clients reaching gunicorn directly (FORWARDED_ALLOW_HOPS=0) keep their real address,
    whatever X-Forwarded-For they send: in the logs and in the per-address limits."""
    direct = app_with_hops(migrated, 0)
    assert logged_address(direct, capsys, "203.0.113.7") == "198.51.100.20"
    for n in range(first_count("REGISTER_IP_RATE_LIMIT")):
        response = post_register(direct, f"new{n}@example.com", forged=f"10.0.0.{n}")
        assert response.status_code == 302
        direct.post("/logout", data={"csrf_token": csrf_token(direct)})
    assert post_register(direct, "one-more@example.com", forged="10.9.9.9").status_code == 429


def test_each_trusted_hop_peels_one_address_off_the_end(migrated, capsys):
    """Behind one router the address the router appended is the client's; with a CDN in
    front (2 hops) it is the one before; what the client wrote itself is never taken."""
    chain = "10.6.6.6, 203.0.113.7, 192.0.2.50"  # forged, client, the CDN
    assert logged_address(app_with_hops(migrated, 1), capsys, chain) == "192.0.2.50"
    assert logged_address(app_with_hops(migrated, 2), capsys, chain) == "203.0.113.7"
    assert logged_address(app_with_hops(migrated, 2), capsys, "203.0.113.7") == "198.51.100.20"


def post_register(client, email, forged):
    token = csrf_token(client, "/register")
    data = {"email": email, "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token}
    return client.post(
        "/register",
        data=data,
        headers={"X-Forwarded-For": forged},
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    )
