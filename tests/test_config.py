"""Settings: PaaS URLs, development secrets, and production refusing to start half-configured."""

import pytest

from shop.config import (
    EMULATOR_WEBHOOK_SECRET,
    LOGIN_MAX_AGE,
    ConfigError,
    database_url,
    load_config,
    require_shared_rate_limits,
)

#: What production on the emulator needs besides SECRET_KEY: its public address, and a
#: choice about rate-limit counters with several workers.
DEMO = {
    "STRIPE_EMULATOR": "1",
    "PUBLIC_URL": "https://shop.example.com",
    "RATELIMIT_STORAGE_URI": "memory://",
}


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
    config = load_config({"SECRET_KEY": "s", **DEMO}, str(tmp_path))
    assert config["STRIPE_EMULATOR"] and config["PRODUCTION"]
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]


def test_a_real_key_turns_the_emulator_off(tmp_path):
    env = {"SECRET_KEY": "s", "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
    config = load_config({**env, **DEMO}, str(tmp_path))
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


# --- issue #22: settings a public shop needs --------------------------------------------------


def test_production_needs_a_public_url_and_takes_only_an_origin(tmp_path):
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_config({"SECRET_KEY": "s", **DEMO, "PUBLIC_URL": ""}, str(tmp_path))
    for bad in (
        "shop.example.com",
        "ftp://shop.example.com",
        "https://shop.example.com/shop",
        "https://user@shop.example.com",
        "https://shop.example.com/?x=1",
    ):
        with pytest.raises(ConfigError, match="PUBLIC_URL"):
            load_config({"SECRET_KEY": "s", **DEMO, "PUBLIC_URL": bad}, str(tmp_path))
    config = load_config(
        {"SECRET_KEY": "s", **DEMO, "PUBLIC_URL": "https://Shop.Example.com/"}, str(tmp_path)
    )
    assert config["PUBLIC_URL"] == "https://shop.example.com"
    assert config["SERVER_NAME"] == "shop.example.com"
    assert config["ALLOWED_HOSTS"] == ["shop.example.com"]
    assert config["PREFERRED_URL_SCHEME"] == "https"


def test_trusted_hosts_add_aliases_to_the_public_host(tmp_path):
    env = {"SECRET_KEY": "s", **DEMO, "TRUSTED_HOSTS": "www.shop.example.com, shop.herokuapp.com"}
    config = load_config(env, str(tmp_path))
    assert config["ALLOWED_HOSTS"] == [
        "shop.example.com",
        "www.shop.example.com",
        "shop.herokuapp.com",
    ]
    with pytest.raises(ConfigError, match="TRUSTED_HOSTS"):
        load_config({**env, "TRUSTED_HOSTS": "https://evil.example/"}, str(tmp_path))
    with pytest.raises(ConfigError, match="TRUSTED_HOSTS"):
        load_config({"FLASK_DEBUG": "1", "TRUSTED_HOSTS": "www.example.com"}, str(tmp_path))


def test_development_guards_no_host(tmp_path):
    config = load_config({"FLASK_DEBUG": "1"}, str(tmp_path))
    assert config["ALLOWED_HOSTS"] == [] and config["SERVER_NAME"] is None


def test_production_never_accepts_the_published_webhook_secret(tmp_path):
    env = {"SECRET_KEY": "s", **DEMO, "STRIPE_WEBHOOK_SECRET": EMULATOR_WEBHOOK_SECRET}
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        load_config(env, str(tmp_path))
    real = {**env, "STRIPE_SECRET_KEY": "sk_live_x"}
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        load_config(real, str(tmp_path))
    # Without one, a demo generates its own (resolved from the database when it runs).
    assert load_config({"SECRET_KEY": "s", **DEMO}, str(tmp_path))["STRIPE_WEBHOOK_SECRET"] is None
    development = load_config({"FLASK_DEBUG": "1"}, str(tmp_path))
    assert development["STRIPE_WEBHOOK_SECRET"] == EMULATOR_WEBHOOK_SECRET


def test_redis_url_as_paas_add_ons_set_it_is_used_for_rate_limits(tmp_path):
    env = {"FLASK_DEBUG": "1", "REDIS_URL": "redis://h:6379/0"}
    assert load_config(env, str(tmp_path))["RATELIMIT_STORAGE_URI"] == "redis://h:6379/0"
    env["RATELIMIT_STORAGE_URI"] = "redis://other:6379/1"  # the explicit setting wins
    assert load_config(env, str(tmp_path))["RATELIMIT_STORAGE_URI"] == "redis://other:6379/1"


def test_the_web_process_refuses_per_worker_counters_unless_told_so():
    """gunicorn.conf.py checks it: only the web process serves what is rate limited."""
    for env in ({}, {"WEB_CONCURRENCY": "4"}):  # gunicorn's default is 2 workers
        with pytest.raises(ConfigError, match="REDIS_URL") as refused:
            require_shared_rate_limits(env)
        assert "RATELIMIT_STORAGE_URI=memory://" in str(refused.value)
    require_shared_rate_limits({"WEB_CONCURRENCY": "1"})
    require_shared_rate_limits({"REDIS_URL": "redis://h:6379/0"})
    require_shared_rate_limits({"RATELIMIT_STORAGE_URI": "memory://"})


def test_remember_me_lasts_at_most_thirty_days(tmp_path):
    config = load_config({"SECRET_KEY": "s", **DEMO}, str(tmp_path))
    assert config["REMEMBER_COOKIE_DURATION"] == LOGIN_MAX_AGE
    assert LOGIN_MAX_AGE.days <= 30


def test_mail_url_reads_smtp_smtps_starttls_and_credentials():
    from shop.config import mail_server

    assert mail_server(None) is None and mail_server("  ") is None
    plain = mail_server("smtp://mail.example.com")
    assert (plain.host, plain.port, plain.security, plain.username) == (
        "mail.example.com",
        25,
        "plain",
        None,
    )
    tls = mail_server("smtps://apikey:s%40cret%2F1@smtp.example.com")
    assert (tls.port, tls.security, tls.username, tls.password) == (
        465,
        "tls",
        "apikey",
        "s@cret/1",
    )
    assert "s@cret" not in repr(tls)
    upgraded = mail_server("smtp://u:p@smtp.example.com:587?starttls=1")
    assert (upgraded.port, upgraded.security) == (587, "starttls")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://smtp.example.com", "smtp:// or smtps://"),
        ("smtp://u:hunter2@smtp.example.com:99999", "port"),
        ("smtp://u:hunter2@:25", "host"),
        ("smtps://u:hunter2@smtp.example.com?starttls=1", "starttls"),
        ("smtp://u:hunter2@smtp.example.com?tls=yes", "starttls=1"),
        ("smtp://u:hunter2@smtp.example.com/inbox", "starttls=1"),
    ],
)
def test_a_malformed_mail_url_stops_start_up_naming_it_but_never_its_password(
    tmp_path, url, problem
):
    with pytest.raises(ConfigError, match="MAIL_URL") as raised:
        load_config({"FLASK_DEBUG": "1", "MAIL_URL": url}, str(tmp_path))
    assert problem in str(raised.value) and "hunter2" not in str(raised.value)


def test_production_mail_needs_a_sender_development_has_one(tmp_path):
    prod = {"SECRET_KEY": "s", **DEMO, "MAIL_URL": "smtp://smtp.example.com"}
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        load_config(prod, str(tmp_path))
    sender = "Northside Roastery <orders@shop.example.com>"
    assert load_config({**prod, "MAIL_FROM": sender}, str(tmp_path))["MAIL_FROM"] == sender
    assert "@" in load_config({"FLASK_DEBUG": "1"}, str(tmp_path))["MAIL_FROM"]
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        load_config({"FLASK_DEBUG": "1", "MAIL_FROM": "no address here"}, str(tmp_path))


def test_a_claim_must_outlast_a_send(tmp_path):
    env = {"FLASK_DEBUG": "1", "MAIL_TIMEOUT": "30", "MAIL_CLAIM_SECONDS": "60"}
    with pytest.raises(ConfigError, match="MAIL_CLAIM_SECONDS must be at least 150"):
        load_config(env, str(tmp_path))


def test_public_url_defaults_to_the_local_server_in_development_only(tmp_path):
    assert load_config({"FLASK_DEBUG": "1"}, str(tmp_path))["PUBLIC_URL"] == (
        "http://127.0.0.1:5000"
    )
    dev = load_config({"FLASK_DEBUG": "1", "PORT": "8000"}, str(tmp_path))
    assert dev["PUBLIC_URL"] == "http://127.0.0.1:8000"
    # Production has no default: it needs PUBLIC_URL (issue #22), which then guards the host.
    prod = {"SECRET_KEY": "s", **DEMO, "PUBLIC_URL": ""}
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_config(prod, str(tmp_path))
    assert dev["ALLOWED_HOSTS"] == [] and dev["SERVER_NAME"] is None
    given = load_config({**prod, "PUBLIC_URL": "https://shop.example.com/"}, str(tmp_path))
    assert given["PUBLIC_URL"] == "https://shop.example.com"
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_config({**prod, "PUBLIC_URL": "shop.example.com"}, str(tmp_path))
