"""The real browser enforces the CSP: the pages, with htmx running, violate none of it."""

import subprocess

import pytest

from chromium import require_chromium
from conftest import serve
from shop.payments import gateway
from stripe_helpers import session_params

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(app, seeded):
    """The test app served over HTTP on a free local port, for the browser."""
    require_chromium()
    with serve(app) as url:
        yield url


def console_of(url: str) -> list[str]:
    """What the page logs to the console while it loads and its scripts run."""
    result = subprocess.run(
        [
            require_chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=1",  # console messages are logged at this level
            "--virtual-time-budget=1000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert "</html>" in result.stdout, result.stderr[-2000:]
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.parametrize("path", ["/?q=beans", "/login", "/no-such-page"])
def test_page_loads_without_csp_violations_or_failed_requests(live_url, path):
    console = console_of(live_url + path)
    problems = [
        line
        for line in console
        if "Content Security Policy" in line or "Failed to load resource" in line
    ]
    assert problems == []


def test_the_hosted_checkout_page_loads_without_csp_violations(app, live_url):
    """The emulator's page, with its pay form, as the customer's browser gets it."""
    with app.app_context():
        session = gateway.create_checkout_session(session_params(), "order-csp")
    path = "/emulator/checkout/" + session["id"]
    console = console_of(live_url + path)
    assert [line for line in console if "Content Security Policy" in line] == []
