"""Logs: one logfmt line per request with its id, errors on one line, no secrets."""

import json
import logging
import re

import pytest

from conftest import app_config, csrf_token
from shop import create_app
from shop.extensions import csrf

LOGFMT_PAIR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def parse_logfmt(line: str) -> dict[str, str]:
    """The key=value pairs of one logfmt line, quoted values unescaped."""
    return {
        key: json.loads(value) if value.startswith('"') else value
        for key, value in LOGFMT_PAIR.findall(line)
    }


def log_lines(capsys) -> list[dict[str, str]]:
    """Every log line written to stdout since the last call, parsed."""
    return log_lines_of(capsys.readouterr().out)


def request_lines(capsys) -> list[dict[str, str]]:
    """The request log lines written since the last call."""
    return [line for line in log_lines(capsys) if line.get("logger") == "shop.request"]


def test_each_request_gets_an_id_echoed_in_the_response_and_one_log_line(client, capsys):
    capsys.readouterr()
    response = client.get("/healthz")
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    [line] = request_lines(capsys)
    assert line["request_id"] == request_id
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", "200")
    assert float(line["duration_ms"]) >= 0
    assert line["level"] == "info"


def test_the_routers_request_id_is_kept(client, capsys):
    capsys.readouterr()
    rid = "4c1b8a02-6f0e-4a8e-9e1e-2d3f4a5b6c7d"
    response = client.get("/", headers={"X-Request-ID": rid})
    assert response.headers["X-Request-ID"] == rid
    assert [line["request_id"] for line in request_lines(capsys)] == [rid]


@pytest.mark.parametrize("bogus", ["two words", "x" * 129, "id=1\tlevel=error", ""])
def test_an_implausible_request_id_is_replaced(client, capsys, bogus):
    capsys.readouterr()
    response = client.get("/healthz", headers={"X-Request-ID": bogus})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    [line] = request_lines(capsys)
    assert line["request_id"] == response.headers["X-Request-ID"]


def test_query_strings_stay_out_of_the_log(client, capsys):
    capsys.readouterr()
    client.get("/?q=private+search")
    [line] = request_lines(capsys)
    assert line["path"] == "/"
    assert "private" not in json.dumps(line)


def test_a_crash_is_one_error_line_with_the_traceback_and_request_context(migrated, capsys):
    app = create_app(app_config(migrated, PROPAGATE_EXCEPTIONS=False))

    @app.get("/boom")
    def boom():
        """A view that fails, as a bug would."""
        raise RuntimeError("kaboom")

    capsys.readouterr()
    response = app.test_client().get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    lines = log_lines(capsys)
    crash = [line for line in lines if line.get("logger") == "shop"]
    assert len(crash) == 1
    assert crash[0]["level"] == "error"
    assert (crash[0]["request_id"], crash[0]["method"], crash[0]["path"]) == (
        "req-500",
        "GET",
        "/boom",
    )
    assert "Traceback" in crash[0]["exc"] and "RuntimeError: kaboom" in crash[0]["exc"]
    [line] = [line for line in lines if line.get("logger") == "shop.request"]
    assert (line["level"], line["status"], line["request_id"]) == ("error", "500", "req-500")
    assert "duration_ms" in line


def test_secrets_never_reach_the_logs(migrated, client, capsys):
    secrets = {
        "password": "hunter2-Password-Secret",
        "card": "4242424242424242",
        "authorization": "Bearer sk_live_AuthorizationSecret",
        "cookie": "CookieSecretValue",
        "signature": "t=1,v1=StripeSignatureSecret",
    }
    headers = {
        "Authorization": secrets["authorization"],
        "Cookie": f"session={secrets['cookie']}",
        "Stripe-Signature": secrets["signature"],
    }
    token = csrf_token(client, "/login")
    capsys.readouterr()
    client.post(
        "/login",
        data={
            "email": "ada@example.com",
            "password": secrets["password"],
            "card_number": secrets["card"],
            "csrf_token": token,
        },
        headers=headers,
    )
    client.post("/stripe/webhook", data=b'{"card": "4242424242424242"}', headers=headers)
    app = create_app(app_config(migrated, PROPAGATE_EXCEPTIONS=False))

    @app.post("/boom")
    @csrf.exempt
    def boom():
        """A view that fails after reading the form."""
        raise RuntimeError("kaboom")

    app.test_client().post("/boom", data={"card_number": secrets["card"]}, headers=headers)
    output = capsys.readouterr().out
    assert "logger=shop.request" in output and "kaboom" in output
    for name, value in secrets.items():
        assert value not in output, f"{name} leaked into the logs"


def test_log_level_setting_is_validated(tmp_path):
    from shop.config import ConfigError, load_config

    env = {"FLASK_DEBUG": "1"}
    assert load_config(env, str(tmp_path))["LOG_LEVEL"] == "INFO"
    assert load_config({**env, "LOG_LEVEL": "warning"}, str(tmp_path))["LOG_LEVEL"] == "WARNING"
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        load_config({**env, "LOG_LEVEL": "loud"}, str(tmp_path))


def test_log_level_warning_silences_request_lines(migrated, capsys):
    app = create_app(app_config(migrated, LOG_LEVEL="WARNING"))
    capsys.readouterr()
    app.test_client().get("/healthz")
    assert request_lines(capsys) == []


def test_the_development_servers_coloured_request_lines_are_plain_text(app, capsys):
    # Werkzeug's development server paints its request lines with terminal colour codes.
    capsys.readouterr()
    logging.getLogger("werkzeug").warning(
        '127.0.0.1 - - "\x1b[36mGET /static/css/shop.css HTTP/1.1\x1b[0m" 304 -'
    )
    out = capsys.readouterr().out
    assert "\\u001b" not in out and "\x1b" not in out
    [line] = [line for line in log_lines_of(out) if line.get("logger") == "werkzeug"]
    assert line["msg"] == '127.0.0.1 - - "GET /static/css/shop.css HTTP/1.1" 304 -'


def log_lines_of(out: str) -> list[dict[str, str]]:
    """The parsed log lines of a captured output."""
    return [parse_logfmt(line) for line in out.splitlines() if line]
