"""Settings: PaaS URLs, development secrets, and production refusing to start half-configured."""

import pytest

from shop.config import ConfigError, database_url, load_config


def test_paas_postgres_url_is_normalised_for_psycopg3():
    assert (
        database_url("postgres://u:p@db:5432/shop", "/x") == "postgresql+psycopg://u:p@db:5432/shop"
    )
    assert database_url("postgresql://db/shop", "/x") == "postgresql+psycopg://db/shop"


def test_without_database_url_sqlite_lives_in_instance(tmp_path):
    assert database_url(None, str(tmp_path)) == f"sqlite:///{tmp_path}/shop.db"


def test_production_without_secret_key_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"STRIPE_EMULATOR": "1"}, str(tmp_path))


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = load_config({"FLASK_DEBUG": "1"}, str(tmp_path))["SECRET_KEY"]
    second = load_config({"FLASK_DEBUG": "1"}, str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_real_stripe_key_needs_a_webhook_secret(tmp_path):
    env = {"FLASK_DEBUG": "1", "STRIPE_SECRET_KEY": "sk_test_123"}
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        load_config(env, str(tmp_path))


def test_production_needs_stripe_key_or_explicit_emulator(tmp_path):
    with pytest.raises(ConfigError, match="STRIPE_SECRET_KEY"):
        load_config({"SECRET_KEY": "s"}, str(tmp_path))
    config = load_config({"SECRET_KEY": "s", "STRIPE_EMULATOR": "1"}, str(tmp_path))
    assert config["STRIPE_EMULATOR"] and config["PRODUCTION"]
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]


def test_a_real_key_turns_the_emulator_off(tmp_path):
    env = {"SECRET_KEY": "s", "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
    config = load_config({**env, "STRIPE_EMULATOR": "1"}, str(tmp_path))
    assert config["STRIPE_EMULATOR"] is False
    assert config["STRIPE_WEBHOOK_SECRET"] == "whsec_x"


def test_rate_limits_come_from_the_environment_and_typos_stop_start_up(tmp_path):
    env = {"FLASK_DEBUG": "1", "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute;20 per day"}
    config = load_config(env, str(tmp_path))
    assert config["LOGIN_ACCOUNT_RATE_LIMIT"] == "3 per minute;20 per day"
    assert config["CHECKOUT_RATE_LIMIT"] == "120 per minute"
    with pytest.raises(ConfigError, match="LOGIN_IP_RATE_LIMIT"):
        load_config({"FLASK_DEBUG": "1", "LOGIN_IP_RATE_LIMIT": "ten a minute"}, str(tmp_path))


def test_rate_limit_storage_is_memory_unless_a_redis_url_is_given(tmp_path):
    assert load_config({"FLASK_DEBUG": "1"}, str(tmp_path))["RATELIMIT_STORAGE_URI"] == "memory://"
    env = {"FLASK_DEBUG": "1", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}
    assert load_config(env, str(tmp_path))["RATELIMIT_STORAGE_URI"] == env["RATELIMIT_STORAGE_URI"]
    bad = {"FLASK_DEBUG": "1", "RATELIMIT_STORAGE_URI": "mongodb://user:secret@db/limits"}
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI") as raised:
        load_config(bad, str(tmp_path))
    assert "secret" not in str(raised.value)
