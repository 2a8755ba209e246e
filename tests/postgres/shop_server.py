"""The real shop under gunicorn on a fresh PostgreSQL database, and customers driving it
over HTTP from many threads.

The server runs the Procfile's `web` command with production settings (SECRET_KEY,
STRIPE_EMULATOR=1, a webhook secret of our own). The test stands where the PaaS router
stands: it has "terminated TLS" and talks plain http to the dyno with
`X-Forwarded-Proto: https`, so the app behaves exactly as in production (Secure cookies,
https urls, CSRF's same-origin Referer check), with no debug switch anywhere.
"""

import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import flask_migrate
import requests
import stripe
from sqlalchemy import Engine, create_engine, text
from test_deploy import free_port, paas_env, procfile

from conftest import FAST_HASH, PASSWORD, app_config, csrf_token_of
from shop import ROOT, create_app
from shop.auth import services as auth_services
from shop.catalog import services as catalog
from shop.extensions import db
from stripe_helpers import signed_event

WORKERS = 4
SECRET_KEY = "multi-worker-proof-secret-key"
WEBHOOK_SECRET = "whsec_multi_worker_proof"
#: The emulator's HTTP API key in these production-mode servers (the published development
#: key is refused in production).
DEMO_API_KEY = "sk_test_multiprocess_proofs_0123456789"

#: Test-only triggers that write down every order status write and every cart quantity
#: change, so a proof counts what the database saw, not what the app says it did.
RECORDERS = """
CREATE TABLE proof_status_writes (order_id int, old_status text, new_status text);
CREATE FUNCTION proof_record_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO proof_status_writes VALUES (OLD.id, OLD.status, NEW.status);
    RETURN NEW;
END $$;
CREATE TRIGGER proof_status_writes AFTER UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION proof_record_status();

CREATE TABLE proof_cart_writes (
    op text, user_id int, product_id int, old_quantity int, new_quantity int
);
CREATE FUNCTION proof_record_cart() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO proof_cart_writes
            VALUES (TG_OP, NEW.user_id, NEW.product_id, NULL, NEW.quantity);
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO proof_cart_writes
            VALUES (TG_OP, NEW.user_id, NEW.product_id, OLD.quantity, NEW.quantity);
    ELSE
        INSERT INTO proof_cart_writes
            VALUES (TG_OP, OLD.user_id, OLD.product_id, OLD.quantity, NULL);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER proof_cart_writes AFTER INSERT OR UPDATE OR DELETE ON cart_items
    FOR EACH ROW EXECUTE FUNCTION proof_record_cart();
"""


def prepare_database(url: str) -> dict[str, int]:
    """Migrate and seed `url` as the release phase does, add the recorders; product ids by SKU."""
    app = create_app(app_config(url))
    with app.app_context():
        try:
            flask_migrate.upgrade()
            catalog.seed_products(catalog.read_seed_file())
            with db.engine.begin() as conn:
                conn.exec_driver_sql(RECORDERS)
                rows = conn.execute(text("SELECT sku, id FROM products"))
                return dict(rows.all())
        finally:
            db.session.remove()
            db.engine.dispose()


class RouterSession(requests.Session):
    """An HTTP client on the router's side of TLS: the shop's Secure cookies were set for
    https, and this hop is plain http, so the jar would keep them back; send them anyway."""

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        """The request with every cookie of the jar (all are this server's)."""
        prepared = super().prepare_request(request)
        if self.cookies:
            prepared.headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        return prepared


@dataclass
class Customer:
    """A signed-in customer's browser: session cookie, CSRF token, the router's headers."""

    server: "ShopServer"
    email: str
    user_id: int
    http: requests.Session = field(default_factory=RouterSession)
    token: str = ""

    def __post_init__(self) -> None:
        """Speak as the router does: https in front, same-origin Referer for CSRF."""
        self.http.headers.update(
            {
                "X-Forwarded-Proto": "https",
                "Referer": f"https://{self.server.host}/",
            }
        )

    def log_in(self) -> "Customer":
        """Log in through the real form, then pick up the page's CSRF token."""
        form = self.http.get(self.server.url("/login"), timeout=10)
        answer = self.http.post(
            self.server.url("/login"),
            data={
                "email": self.email,
                "password": PASSWORD,
                "csrf_token": csrf_token_of(form.text),
            },
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, (answer.status_code, answer.text[-1500:])
        self.token = csrf_token_of(self.http.get(self.server.url("/"), timeout=10).text)
        return self

    def tab(self) -> "Customer":
        """Another tab of the same browser: same cookies and token, its own connection."""
        other = Customer(self.server, self.email, self.user_id, token=self.token)
        other.http.cookies.update(self.http.cookies)
        return other

    def get(self, path: str, htmx: bool = False, **kwargs) -> requests.Response:
        """GET a page (or its fragment, as htmx asks for it)."""
        headers = {"HX-Request": "true"} if htmx else {}
        return self.http.get(self.server.url(path), headers=headers, timeout=30, **kwargs)

    def send(self, method: str, path: str, data: dict | None = None) -> requests.Response:
        """POST/DELETE as htmx sends it from our page: HX-Request and the X-CSRFToken header."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.token}
        return self.http.request(
            method, self.server.url(path), data=data, headers=headers, timeout=60
        )


@dataclass
class ShopServer:
    """A running gunicorn with the shop, its database, and what the proofs need to count."""

    port: int
    database_url: str
    process: subprocess.Popen
    log: Path
    engine: Engine

    @property
    def host(self) -> str:
        """host:port as customers address it."""
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """An absolute url on this server."""
        return f"http://{self.host}{path}"

    def scalar(self, sql: str, **params):
        """One value from the shop's database (the test's own connection)."""
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params) -> list:
        """Rows from the shop's database."""
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def execute(self, sql: str, **params) -> int:
        """Change the database directly (as Stripe or an operator would); rows changed."""
        with self.engine.begin() as conn:
            return conn.execute(text(sql), params).rowcount

    def add_customer(self, email: str | None = None) -> Customer:
        """A new customer account (made directly, with a fast hash), logged in over HTTP."""
        email = email or f"c{uuid.uuid4().hex[:10]}@example.com"
        app = create_app(app_config(self.database_url))
        with app.app_context():
            try:
                user_id = auth_services.register_user(email, PASSWORD, FAST_HASH).id
            finally:
                db.session.remove()
                db.engine.dispose()
        return Customer(self, email, user_id).log_in()

    def stripe_api(self) -> stripe.StripeClient:
        """The emulator's API over HTTP, through the real SDK, as another process sees it."""
        return stripe.StripeClient(
            DEMO_API_KEY, base_addresses={"api": self.url("/emulator/stripe")}
        )

    def sessions_of(self, user_id: int) -> list:
        """Every Checkout Session the emulator holds for a customer (its HTTP list API)."""
        listed = self.stripe_api().v1.checkout.sessions.list(params={"limit": 100})
        assert not listed.has_more
        return [s for s in listed.data if s.client_reference_id == str(user_id)]

    def pay_at_stripe(self, session_id: str) -> dict:
        """The customer pays on Stripe's page; the event is still on its way: the session
        is complete and paid in the emulator's tables, and nothing told the shop yet."""
        changed = self.execute(
            "UPDATE emulator_checkout_sessions SET status = 'complete', "
            "payment_status = 'paid', payment_intent = :intent "
            "WHERE id = :id AND status = 'open'",
            id=session_id,
            intent=f"pi_{uuid.uuid4().hex[:24]}",
        )
        assert changed == 1
        return self.stripe_api().v1.checkout.sessions.retrieve(session_id).to_dict()

    def webhook(self, event: dict) -> tuple[bytes, dict]:
        """The raw body and headers Stripe would send for `event`, signed with our secret."""
        return signed_event(event, WEBHOOK_SECRET)

    def booted_workers(self) -> int:
        """How many worker boots the log shows (more than WORKERS means some died)."""
        return self.log.read_text().count("Booting worker")


def completed_event(session: dict) -> dict:
    """A `checkout.session.completed` event about `session`, shaped as Stripe sends it."""
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
        "data": {"object": session},
    }


def session_id_of(url: str) -> str:
    """The Checkout Session id at the end of its hosted page's url."""
    match = re.search(r"/(cs_test_[A-Za-z0-9]+)$", url)
    assert match, url
    return match.group(1)


def start_server(database_url: str, log: Path, **settings: str) -> ShopServer:
    """Start the Procfile's web process with WORKERS workers on a free port; wait for it."""
    port = free_port()
    env = paas_env(
        **{
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET_KEY,
            "STRIPE_EMULATOR": "1",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_EMULATOR_API_KEY": DEMO_API_KEY,
            # Customers (and the emulator's API clients) address the dyno as 127.0.0.1:port,
            # over https as far as the app knows (the router's X-Forwarded-Proto).
            "PUBLIC_URL": f"https://127.0.0.1:{port}",
            # Per-worker counters, chosen explicitly; a module wanting Redis overrides it.
            "RATELIMIT_STORAGE_URI": "memory://",
            "PORT": str(port),
            "WEB_CONCURRENCY": str(WORKERS),
            "LOG_LEVEL": "INFO",  # gunicorn's boot lines show whether a worker died
            # Temporary files (gunicorn.conf.py's metrics directory among them) beside the log:
            # the server is killed, not stopped, so it cannot clean up after itself.
            "TMPDIR": str(log.parent),
            **settings,
        }
    )
    with log.open("w") as out:
        process = subprocess.Popen(
            ["/bin/sh", "-c", procfile()["web"]],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    engine = create_engine(database_url, pool_pre_ping=True)
    server = ShopServer(port, database_url, process, log, engine)
    until = time.monotonic() + 30
    while log.read_text().count("Booting worker") < WORKERS or not _answers(server):
        if process.poll() is not None or time.monotonic() > until:
            stop_server(server)
            raise AssertionError(f"gunicorn did not come up:\n{log.read_text()}")
        time.sleep(0.1)
    return server


def _answers(server: ShopServer) -> bool:
    """Whether the server accepts HTTP requests yet."""
    try:
        requests.get(server.url("/favicon.ico"), timeout=2)
    except requests.ConnectionError:
        return False
    return True


def stop_server(server: ShopServer) -> None:
    """Stop the server's process group at once; graceful shutdown is test_deploy.py's
    subject, and waiting for it would add seconds per module."""
    server.engine.dispose()
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()


def together(count: int, work: Callable[[int], object]) -> tuple[list, float]:
    """Run `work(i)` in `count` threads released at the same instant: (results, seconds)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        """One thread: wait for the others, then do the work."""
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # re-raised in the test's thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    assert not errors, errors
    return results, elapsed
