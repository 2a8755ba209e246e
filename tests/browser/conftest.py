"""Browser tests: the shop served over HTTP from a thread, driven by Debian's Chromium.

One browser and one server per session (fast), a new browser context per test (no
cookies or storage carried over), the catalogue seeded before each test and every table
emptied after it. Every test fails if the page logged a console error, threw, broke the
CSP, or saw a request fail or answer 4xx/5xx, unless the test allowed that one problem.
"""

import re
from dataclasses import dataclass, field

import pytest

from browser.helpers import AXE, DESKTOP, log_in
from chromium import require_chromium
from conftest import FAST_HASH, PASSWORD, app_config, serve
from shop import create_app
from shop.auth import services as auth_services
from shop.catalog import services as catalog_services
from shop.catalog.models import Product
from shop.extensions import db

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Chromium logs CSP violations itself; this makes sure each one is also a console error
#: the collector sees, whatever the browser's wording.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  const what = e.blockedURI || "inline";
  const where = `${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`;
  console.error(`CSP violation: ${e.violatedDirective} blocked ${what} at ${where}`);
});
"""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After the test body: fail the test itself on any problem the browser reported."""
    result = yield
    problems = item.funcargs.get("problems")
    if problems is not None:
        problems.check()
    return result


@dataclass
class Problems:
    """What went wrong in the browser during one test, minus what the test allowed."""

    seen: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Accept problems matching `pattern` (a regex), e.g. a deliberately declined card."""
        self.allowed.append(re.compile(pattern))

    def allow_status(self, status: int, path: str) -> None:
        """Accept answers with `status` from urls whose path matches the regex `path`, and
        the console line Chromium writes about each."""
        self.allow(rf"^HTTP {status}: [A-Z]+ https?://[^/]+{path}$")
        self.allow(
            rf"^console error: Failed to load resource: .* {status} .*\(https?://[^/]+{path}\)$"
        )

    def add(self, problem: str) -> None:
        """Record one problem."""
        self.seen.append(problem)

    def unexpected(self) -> list[str]:
        """The problems no allowance covers."""
        return [p for p in self.seen if not any(a.search(p) for a in self.allowed)]

    def check(self) -> None:
        """Fail with the list of unexpected problems, if any."""
        unexpected = self.unexpected()
        if unexpected:
            pytest.fail("the browser reported problems:\n  " + "\n  ".join(unexpected))

    def _request_failed(self, request) -> None:
        """Record a request that got no answer, unless the page itself cancelled it.

        net::ERR_ABORTED is the browser dropping its own request: the tab moved on while the
        favicon loaded, or htmx replaced a request by a newer one. A server that fails shows
        up as another net:: error or as a 4xx/5xx response.
        """
        if request.failure != "net::ERR_ABORTED":
            self.add(f"failed request: {request.method} {request.url} ({request.failure})")

    def watch(self, context) -> None:
        """Listen to every page of `context`."""
        context.add_init_script(CSP_REPORTER)
        context.on(
            "console",
            lambda msg: (
                msg.type == "error"
                and self.add(f"console error: {msg.text} ({msg.location.get('url')})")
            ),
        )
        context.on("weberror", lambda error: self.add(f"page error: {error.error}"))
        context.on("requestfailed", self._request_failed)
        context.on(
            "response",
            lambda res: (
                res.status >= 400 and self.add(f"HTTP {res.status}: {res.request.method} {res.url}")
            ),
        )


@dataclass
class LiveShop:
    """The running shop: its url, its app (for looking in the database) and helpers."""

    url: str
    app: object
    products: dict = field(default_factory=dict)

    def create_user(self, email: str) -> int:
        """A customer straight in the database (the sign-up form has its own test)."""
        with self.app.app_context():
            return auth_services.register_user(email, PASSWORD, FAST_HASH).id

    def create_admin(self, email: str) -> int:
        """An admin straight in the database (as `flask create-admin` makes one)."""
        with self.app.app_context():
            return auth_services.set_admin(email, PASSWORD, FAST_HASH)[0].id

    def query(self, statement):
        """Run a read in the app's database and return the rows as a list."""
        with self.app.app_context():
            rows = list(db.session.execute(statement))
            db.session.remove()
            return rows


@pytest.fixture(scope="session")
def chromium_path():
    """Debian's Chromium, or a skip (a failure with REQUIRE_BROWSER=1)."""
    return require_chromium()


@pytest.fixture(scope="session")
def live_app(migrated, chromium_path):
    """One app for the whole browser session, on the run's database, with the emulator."""
    return create_app(app_config(migrated))


@pytest.fixture(scope="session")
def live_server(live_app):
    """The app over HTTP on a free port of 127.0.0.1, served from a thread."""
    with serve(live_app) as url:
        yield url
    with live_app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One headless Chromium for the session (Playwright drives the system browser)."""
    from playwright.sync_api import expect, sync_playwright

    # The machine may be busy; htmx debounces of 300-400 ms plus a server round trip
    # should never fail a test on timing alone.
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shop(live_app, live_server):
    """The shop with its catalogue loaded; every table is emptied after the test."""
    with live_app.app_context():
        catalog_services.seed_products(catalog_services.read_seed_file())
        products = {p.sku: p for p in db.session.scalars(db.select(Product))}
        db.session.expunge_all()
        db.session.remove()
    yield LiveShop(url=live_server, app=live_app, products=products)
    with live_app.app_context():
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture(autouse=True)
def problems():
    """Console errors, page errors, CSP violations and failed or 4xx/5xx requests."""
    return Problems()


@pytest.fixture
def new_context(browser, shop, problems):
    """Make browser contexts (desktop by default) whose problems are collected."""
    contexts = []

    def make(**options):
        options = {"viewport": DESKTOP, "base_url": shop.url, **options}
        context = browser.new_context(**options)
        context.add_init_script(path=str(AXE))
        problems.watch(context)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context):
    """A fresh desktop browser context: no cookies, no storage."""
    return new_context()


@pytest.fixture
def page(context):
    """A tab in the fresh context."""
    return context.new_page()


@pytest.fixture
def customer(shop):
    """A registered customer's email (not logged in yet)."""
    email = "ada@example.com"
    shop.create_user(email)
    return email


@pytest.fixture
def signed_in(page, customer):
    """The desktop tab, logged in as the customer, on the shop page."""
    log_in(page, customer)
    return page
