"""A real SMTP server for the tests (aiosmtpd, in this process, on a free loopback port)
that keeps what it receives and can be taken down, brought back, made to refuse a
recipient or to hold a message mid-send; and a worker running in a thread."""

import asyncio
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from test_deploy import free_port, paas_env, procfile

from shop import ROOT
from shop.config import mail_server
from shop.notifications.transport import SmtpTransport
from shop.notifications.worker import Worker


@dataclass(frozen=True)
class Received:
    """One message as the server took it: envelope and parsed content."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        """The text of the `plain` or `html` part."""
        return self.message.get_body(preferencelist=(subtype,)).get_content()


class Mailbox:
    """An SMTP server on 127.0.0.1 that records every message it accepts."""

    def __init__(self, username: str | None = None, password: str | None = None):
        self.port = free_port()
        self.credentials = (username, password) if username else None
        self.received: list[Received] = []
        self.refused: set[str] = set()
        self.logins: list[str] = []
        self.delay = 0.0  # seconds each message takes to be accepted (a slower server)
        self._changed = threading.Condition()
        self._controller: Controller | None = None
        self._gate: threading.Event | None = None
        self.arrived = threading.Event()  # a held message's DATA came in

    @property
    def url(self) -> str:
        """MAIL_URL for this server."""
        if self.credentials:
            user, password = (quote(part, safe="") for part in self.credentials)
            return f"smtp://{user}:{password}@127.0.0.1:{self.port}"
        return f"smtp://127.0.0.1:{self.port}"

    def transport(self, timeout: float = 5) -> SmtpTransport:
        """The shop's SMTP transport pointed at this server."""
        return SmtpTransport(mail_server(self.url), timeout)

    def start(self) -> None:
        """Listen (again, on the same port)."""
        options = {}
        if self.credentials:
            options = {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": False,  # loopback only; the transport's TLS is Python's own
            }
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **options
        )
        with warnings.catch_warnings():  # AUTH without TLS: on loopback, by design
            warnings.simplefilter("ignore", UserWarning)
            self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused, as with a server that is down."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @contextmanager
    def holding(self) -> Iterator[threading.Event]:
        """Hold each message after its DATA arrived until the yielded event is set."""
        self._gate = threading.Event()
        self.arrived.clear()
        try:
            yield self._gate
        finally:
            self._gate.set()
            self._gate = None

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """Wait until at least `count` messages arrived (or the deadline); all received."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return list(self.received)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        """Accept exactly the configured user and password."""
        ok = isinstance(auth_data, LoginPassword) and self.credentials == (
            auth_data.login.decode(),
            auth_data.password.decode(),
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def _keep(self, received: Received) -> None:
        """Record a message and wake whoever waits for it."""
        with self._changed:
            self.received.append(received)
            self._changed.notify_all()


class _Handler:
    """aiosmtpd hooks: refuse listed recipients, hold when asked, keep the rest."""

    def __init__(self, box: Mailbox):
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """550 for a refused address, else accept it."""
        if address in self.box.refused:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """Keep the message (after the gate opens, when holding) and accept it."""
        if self.box.delay:
            await asyncio.sleep(self.box.delay)
        gate = self.box._gate
        if gate is not None:
            self.box.arrived.set()
            await asyncio.to_thread(gate.wait)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.box._keep(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@contextmanager
def running_worker(app, transport, **settings) -> Iterator[Worker]:
    """`flask worker`'s loop in a thread, with `settings` (MAIL_*) applied, until the block ends."""
    app.config.update(settings)
    stop = threading.Event()
    worker = Worker(app, transport, stop)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the worker did not stop"


def wait_until(check, timeout: float = 20, every: float = 0.02):
    """Poll `check()` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(every)
    raise AssertionError(f"not true within {timeout}s: {check}")


def start_worker_process(database_url: str, mailbox: Mailbox, log, **settings) -> subprocess.Popen:
    """The Procfile's `worker` command in production mode on `database_url`, sending to
    `mailbox`, its output in the file `log`."""
    env = paas_env(
        DATABASE_URL=database_url,
        SECRET_KEY="worker-test-secret",
        STRIPE_EMULATOR="1",
        MAIL_URL=mailbox.url,
        MAIL_FROM="Northside Roastery <orders@shop.example.com>",
        PUBLIC_URL="https://shop.example.com",
        MAIL_POLL_SECONDS="1",
        **settings,
    )
    with open(log, "w") as out:
        return subprocess.Popen(
            ["/bin/sh", "-c", procfile()["worker"]], cwd=ROOT, env=env, stdout=out, stderr=out
        )
