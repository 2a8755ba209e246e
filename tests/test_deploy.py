"""Deploying as a Procfile PaaS does: the release and web commands, run for real.

The smoke test needs PostgreSQL (TEST_DATABASE_URL); the start-up refusals run anywhere.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from conftest import csrf_token_of
from shop import ROOT
from shop.config import database_url as normalise_url

PROCFILE = Path(ROOT) / "Procfile"
STATIC = Path(ROOT) / "static"
# Settings a developer's shell may hold that a fresh PaaS app would not have.
NOT_INHERITED = (
    "SECRET_KEY",
    "DATABASE_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_EMULATOR",
    "FLASK_DEBUG",
    "FLASK_APP",
    "PORT",
    "WEB_CONCURRENCY",
    "LOG_LEVEL",
    "GUNICORN_CMD_ARGS",
    "FORWARDED_ALLOW_IPS",
    "PUBLIC_URL",
    "TRUSTED_HOSTS",
    "REDIS_URL",
    "RATELIMIT_STORAGE_URI",
    "MAIL_URL",
    "MAIL_FROM",
)
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example.com"}
#: The router names the shop's host; a dyno's own address is not it.
ROUTED = {"X-Forwarded-Host": "shop.example.com"}
#: A public demo's settings besides SECRET_KEY (issue #22: PUBLIC_URL is required, and with
#: several workers rate-limit counters are shared or per-worker by explicit choice).
DEMO = {
    "STRIPE_EMULATOR": "1",
    "PUBLIC_URL": "https://shop.example.com",
    "RATELIMIT_STORAGE_URI": "memory://",
}


def procfile() -> dict[str, str]:
    """The Procfile's process types and their commands."""
    lines = PROCFILE.read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if re.match(r"^[a-z]+: ", line))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def paas_env(**settings: str) -> dict[str, str]:
    """The environment of a dyno: the venv on PATH, no local .env, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["FLASK_SKIP_DOTENV"] = "1"
    env.update(settings)
    return env


def run_process_type(name: str, env: dict[str, str], timeout: float = 60):
    """Run a Procfile command through a shell, as the PaaS does, to completion."""
    return subprocess.run(
        ["/bin/sh", "-c", procfile()[name]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )


def test_procfile_has_web_and_release():
    commands = procfile()
    assert commands["web"].split()[:4] == ["exec", "gunicorn", "--config", "gunicorn.conf.py"]
    assert commands["release"] == "flask db upgrade && flask seed"
    assert (Path(ROOT) / ".python-version").read_text().strip() == "3.11"


# Each missing or contradictory setting, with the variable its one error line names.
BAD_SETTINGS = [
    pytest.param({"STRIPE_EMULATOR": "1"}, "SECRET_KEY", id="no-secret-key"),
    pytest.param(
        {"SECRET_KEY": "s", "STRIPE_SECRET_KEY": "sk_test_x"},
        "STRIPE_WEBHOOK_SECRET",
        id="stripe-key-without-webhook-secret",
    ),
    pytest.param({"SECRET_KEY": "s"}, "STRIPE_SECRET_KEY", id="no-stripe-key-no-emulator"),
    pytest.param(
        {"SECRET_KEY": "s", "STRIPE_EMULATOR": "1", "LOG_LEVEL": "chatty"},
        "LOG_LEVEL",
        id="bad-log-level",
    ),
    pytest.param(
        {"SECRET_KEY": "s", "STRIPE_EMULATOR": "1", "WEB_CONCURRENCY": "0"},
        "WEB_CONCURRENCY",
        id="bad-web-concurrency",
    ),
    pytest.param(
        {"SECRET_KEY": "s", "STRIPE_EMULATOR": "1", "MAIL_URL": "smtp://u:pw@mail.test:port"},
        "MAIL_URL",
        id="malformed-mail-url",
    ),
]
# Issue #22: what a public shop must not start without.
PUBLIC_SHOP_SETTINGS = [
    pytest.param({"SECRET_KEY": "s", **DEMO, "PUBLIC_URL": ""}, "PUBLIC_URL", id="no-public-url"),
    pytest.param(
        {"SECRET_KEY": "s", **DEMO, "STRIPE_WEBHOOK_SECRET": "whsec_emulator_development_only"},
        "STRIPE_WEBHOOK_SECRET",
        id="published-webhook-secret",
    ),
    pytest.param(
        {"SECRET_KEY": "s", **DEMO, "RATELIMIT_STORAGE_URI": ""},
        "REDIS_URL",
        id="per-worker-rate-limits",
    ),
]
BAD_SETTINGS += PUBLIC_SHOP_SETTINGS


def assert_one_named_error(output: str, variable: str) -> None:
    """The output holds exactly one error line, naming `variable`, and no traceback."""
    errors = [line for line in output.splitlines() if "Configuration error" in line]
    assert len(errors) == 1, output
    assert variable in errors[0], output
    assert "Traceback" not in output, output


@pytest.mark.parametrize(("settings", "variable"), BAD_SETTINGS)
def test_gunicorn_master_refuses_to_start_with_one_line(tmp_path, settings, variable):
    env = paas_env(PORT=str(free_port()), DATABASE_URL=f"sqlite:///{tmp_path}/shop.db", **settings)
    started = time.monotonic()
    result = run_process_type("web", env, timeout=30)
    assert result.returncode != 0
    assert_one_named_error(result.stdout, variable)
    assert "Booting worker" not in result.stdout  # the master stopped; no worker respawn loop
    assert time.monotonic() - started < 15


# Rate-limit counters concern the web process only (gunicorn.conf.py checks them).
@pytest.mark.parametrize(("settings", "variable"), BAD_SETTINGS[:4] + PUBLIC_SHOP_SETTINGS[:2])
def test_flask_commands_refuse_to_run_with_one_line(tmp_path, settings, variable):
    env = paas_env(DATABASE_URL=f"sqlite:///{tmp_path}/shop.db", **settings)
    result = run_process_type("release", env, timeout=30)
    assert result.returncode != 0
    assert_one_named_error(result.stdout, variable)
    assert not (tmp_path / "shop.db").exists()  # nothing ran


@pytest.fixture
def fresh_postgres():
    """A new, empty PostgreSQL database as a PaaS hands it out (`postgres://`); dropped after."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("the deploy smoke test needs PostgreSQL: set TEST_DATABASE_URL")
    server = make_url(normalise_url(base, ""))
    name = f"shop_deploy_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        yield "postgres://" + url.split("://", 1)[1]
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wait_until_up(base: str, web: subprocess.Popen, log: Path, deadline: float = 20) -> None:
    """Poll /healthz until the web process answers; fail early if it died."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        assert web.poll() is None, f"web process exited:\n{log.read_text()}"
        try:
            requests.get(base + "/healthz", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    pytest.fail(f"web process did not answer within {deadline}s:\n{log.read_text()}")


def secure_cookie_attributes(response, name: str) -> list[str]:
    """The attributes of the Set-Cookie header for cookie `name`, lower-cased."""
    headers = response.raw.headers.getlist("Set-Cookie")
    [cookie] = [h for h in headers if h.startswith(f"{name}=")]
    return [part.strip().lower() for part in cookie.split(";")[1:]]


@pytest.mark.postgres
def test_release_then_web_as_a_paas_runs_them(fresh_postgres, tmp_path):
    started = time.monotonic()
    production = {"SECRET_KEY": "smoke-test-secret", **DEMO}
    env = paas_env(DATABASE_URL=fresh_postgres, **production)

    release = run_process_type("release", env)
    assert release.returncode == 0, release.stdout
    assert re.search(r"added: [1-9]", release.stdout), release.stdout
    again = run_process_type("release", env)  # every deploy runs it: must be idempotent
    assert again.returncode == 0 and "added: 0" in again.stdout, again.stdout

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "web.log"
    with log.open("w") as out:
        web = subprocess.Popen(
            ["/bin/sh", "-c", procfile()["web"]],
            cwd=ROOT,
            env={**env, "PORT": str(port), "WEB_CONCURRENCY": "2"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(base, web, log)

        health = requests.get(base + "/healthz", timeout=5)
        assert (health.status_code, health.text) == (200, "ok")

        home = requests.get(base + "/", headers={"X-Request-ID": "smoke-home", **ROUTED}, timeout=5)
        assert home.status_code == 200 and "Northside Roastery" in home.text
        assert home.headers["X-Request-ID"] == "smoke-home"
        assert "Strict-Transport-Security" not in home.headers  # plain http

        # A static asset as the page links it: hashed name, compressed, cached for long.
        css = re.search(r'href="(/static/css/shop\.[0-9a-f]{12}\.css)"', home.text).group(1)
        asset = requests.get(
            base + css, headers={"Accept-Encoding": "br, gzip", **ROUTED}, timeout=5
        )
        assert asset.status_code == 200
        assert asset.headers["Content-Encoding"] in {"br", "gzip"}
        cache = asset.headers["Cache-Control"]
        assert int(re.search(r"max-age=(\d+)", cache).group(1)) >= 30 * 24 * 3600
        assert "immutable" in cache
        assert asset.content == (STATIC / "css" / "shop.css").read_bytes()

        # Only the public host is served (the health check aside): 400 for any other.
        assert requests.get(base + "/", timeout=5).status_code == 400
        evil = {**FORWARDED, "X-Forwarded-Host": "evil.example"}
        assert requests.get(base + "/login", headers=evil, timeout=5).status_code == 400

        # Behind the router: https urls, HSTS, and Secure session and remember cookies.
        secure = requests.get(base + "/", headers=FORWARDED, timeout=5)
        assert '<link rel="canonical" href="https://shop.example.com/">' in secure.text
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=")

        form = requests.get(base + "/register", headers=FORWARDED, timeout=5)
        attributes = secure_cookie_attributes(form, "session")
        assert {"secure", "httponly", "samesite=lax"} <= set(attributes)
        account = {"email": "smoke@example.com", "password": "smoke-test-password"}
        registered = requests.post(
            base + "/register",
            data={
                **account,
                "confirm": account["password"],
                "csrf_token": csrf_token_of(form.text),
            },
            cookies=form.cookies.get_dict(),
            # Over https Flask-WTF also wants a same-origin Referer, as browsers send.
            headers={**FORWARDED, "Referer": "https://shop.example.com/register"},
            allow_redirects=False,
            timeout=10,
        )
        assert registered.status_code == 302, registered.text
        login = requests.get(base + "/login", headers=FORWARDED, timeout=5)
        logged_in = requests.post(
            base + "/login",
            data={**account, "remember": "y", "csrf_token": csrf_token_of(login.text)},
            cookies=login.cookies.get_dict(),
            headers={**FORWARDED, "Referer": "https://shop.example.com/login"},
            allow_redirects=False,
            timeout=10,
        )
        assert logged_in.status_code == 302, logged_in.text
        for name in ("session", "remember_token"):
            attributes = secure_cookie_attributes(logged_in, name)
            assert {"secure", "httponly", "samesite=lax"} <= set(attributes), name

        # PaaS shutdown: SIGTERM to the process it started; gunicorn stops cleanly.
        web.send_signal(signal.SIGTERM)
        assert web.wait(timeout=25) == 0
    finally:
        if web.poll() is None:
            os.killpg(web.pid, signal.SIGKILL)
            web.wait()

    output = log.read_text()
    assert output.count("Booting worker") == 2  # WEB_CONCURRENCY workers
    assert "Shutting down: Master" in output
    [line] = [line for line in output.splitlines() if "request_id=smoke-home" in line]
    assert "method=GET path=/ status=200 duration_ms=" in line
    assert "smoke-test-password" not in output and "smoke-test-secret" not in output
    assert time.monotonic() - started < 45
