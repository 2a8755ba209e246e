"""Behind the PaaS router: forwarded scheme, host and address are trusted in production only."""

import pytest

from conftest import app_config
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
