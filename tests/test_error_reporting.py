"""Error reports to Sentry: nothing of sentry-sdk is even imported without SENTRY_DSN; with
one, an unhandled error reaches the DSN's server carrying no personal data.

Each app runs in a subprocess: sentry-sdk's Flask integration patches Flask for the whole
process, and the first test is about what a fresh process imports.
"""

import gzip
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import pytest

from shop import ROOT
from shop.config import ConfigError, load_config

#: Values a request carries that must never reach Sentry.
SECRETS = {
    "Authorization": "Bearer auth-header-secret",
    "Cookie": "session=cookie-secret",
    "Stripe-Signature": "t=1,v1=signature-secret",
    "X-CSRFToken": "csrf-secret",
}
BODY = {"email": "ada@example.com", "password": "password-secret"}
QUERY = "q=search-secret"
LOCAL = "local-variable-secret"

APP = f"""
import json, sys
sys.path[:0] = [{ROOT!r}, {ROOT + "/tests"!r}]
from conftest import app_config
from shop import create_app
from shop.extensions import csrf

app = create_app(app_config("sqlite://", SENTRY_DSN=sys.argv[1] or None,
                            PROPAGATE_EXCEPTIONS=False))

@csrf.exempt
def boom():
    card = {LOCAL!r}
    raise RuntimeError("boom")

app.add_url_rule("/boom", view_func=boom, methods=["POST"])
status = app.test_client().post(
    "/boom?{QUERY}", data={BODY!r}, headers={{**{SECRETS!r}, "X-Request-ID": "req-42"}}
).status_code
report = {{"status": status, "sentry_imported": "sentry_sdk" in sys.modules}}
if report["sentry_imported"]:
    import sentry_sdk
    sentry_sdk.flush(timeout=10)
    options = sentry_sdk.get_client().options
    report["options"] = {{k: options[k] for k in
        ("send_default_pii", "max_request_body_size", "include_local_variables")}}
print(json.dumps(report))
"""


def run_app(dsn: str = "") -> dict:
    """Build the shop in a fresh process, make one request fail; what that process saw."""
    done = subprocess.run(
        [sys.executable, "-c", APP, dsn],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


class Sentry(BaseHTTPRequestHandler):
    """A Sentry ingest endpoint that keeps every envelope it is sent."""

    received: list[bytes] = []

    def do_POST(self) -> None:
        """Keep the (decompressed) envelope and answer as Sentry does."""
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture
def sentry():
    """A local Sentry on a free port; yields (its DSN, the envelopes it received)."""
    Sentry.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sentry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://publickey@127.0.0.1:{server.server_port}/1", Sentry.received
    server.shutdown()
    thread.join()


def events(envelopes: list[bytes]) -> list[dict]:
    """The error events among the envelopes' items (header line, item header, payload...)."""
    found = []
    for envelope in envelopes:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


def test_without_a_dsn_sentry_is_not_even_imported():
    report = run_app()
    assert report == {"status": 500, "sentry_imported": False}


def test_an_error_reaches_sentry_without_personal_data(sentry):
    dsn, received = sentry
    report = run_app(dsn)
    assert report["status"] == 500
    assert report["options"] == {
        "send_default_pii": False,
        "max_request_body_size": "never",
        "include_local_variables": False,
    }
    [event] = events(received)  # one report, not one more for the request's log line
    [exception] = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "boom")
    request = event["request"]
    assert request["url"].endswith("/boom") and request["method"] == "POST"
    assert request["headers"]["X-Request-Id"] == "req-42"  # to find its log lines
    assert {name.lower() for name in request["headers"]} <= {
        "host",
        "user-agent",
        "accept",
        "content-type",
        "content-length",
        "hx-request",
        "x-request-id",
    }
    assert not {"cookies", "data", "query_string", "env"} & request.keys()
    assert "user" not in event
    frames = exception["stacktrace"]["frames"]
    assert frames and not [frame for frame in frames if "vars" in frame]
    everything = b"".join(received).decode()
    leaked = [s for s in (*SECRETS.values(), *BODY.values(), QUERY, LOCAL) if s in everything]
    assert leaked == []


def test_a_dsn_that_is_not_one_stops_start_up_naming_the_variable(tmp_path):
    env = {
        "SECRET_KEY": "x",
        "STRIPE_EMULATOR": "1",
        "PUBLIC_URL": "https://shop.example.com",
        "SENTRY_DSN": "sentry-key-not-a-url",
    }
    with pytest.raises(ConfigError, match="SENTRY_DSN must read like") as refused:
        load_config(env, str(tmp_path))
    assert "sentry-key-not-a-url" not in str(refused.value)
