"""What the rehearsal runs on loopback: PostgreSQL (a database of its own), a Redis of its
own, an SMTP sink, two copies of the Procfile's `web` process and its `worker`, and the
scheduled `flask emulator expire-due`. Each is started here and stopped by `Stack.stop()`.
"""

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import psycopg
from aiosmtpd.controller import Controller

from .. import servers
from ..__main__ import server_env

ROOT = servers.ROOT
RESULTS = ROOT / "bench" / "results" / "rehearsal"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
#: How often the rehearsal runs `flask emulator expire-due`, as cron would.
EXPIRE_DUE_EVERY = 15.0


def procfile() -> dict[str, str]:
    """The Procfile's process types and their commands."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if re.match(r"^[a-z]+: ", line))


# --- PostgreSQL and Redis -------------------------------------------------------------


def ensure_postgres() -> None:
    """Start the local cluster if it does not answer (as .ci/run does)."""
    ready = ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]
    if subprocess.run(ready, check=False).returncode == 0:
        return
    clusters = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True)
    version = clusters.stdout.split()[0]
    print(f"rehearsal: starting PostgreSQL {version}", flush=True)
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True
    )
    for _ in range(30):
        if subprocess.run(ready, check=False).returncode == 0:
            return
        time.sleep(1)
    raise RuntimeError("PostgreSQL did not start on 127.0.0.1:5432")


def create_database() -> str:
    """A fresh database of the rehearsal's own; its URL."""
    name = f"rehearsal_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    """Drop the rehearsal's database (closing whatever still holds it)."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Redis:
    """A redis-server of the rehearsal's own on a free loopback port (no disk, no sharing
    counters with anyone else's tests on the machine's Redis)."""

    port: int = field(default_factory=servers.free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """REDIS_URL for it."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "Redis":
        """Start it and wait until it answers."""
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is missing: apt-get install redis-server")
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
        import redis

        client = redis.Redis.from_url(self.url)
        for _ in range(50):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not answer")

    def stop(self) -> None:
        """Stop it."""
        _terminate(self.process)


# --- the SMTP sink --------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    """One message the sink took: Message-ID, subject and recipients."""

    message_id: str
    subject: str
    recipients: tuple[str, ...]


class Sink:
    """An SMTP server (aiosmtpd) in this process on a free loopback port, keeping every
    message it accepts."""

    def __init__(self) -> None:
        self.port = servers.free_port()
        self.received: list[Mail] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        """MAIL_URL for it."""
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope) -> str:
        """aiosmtpd's hook: keep the message."""
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        mail = Mail(
            str(message["Message-ID"]).strip(), str(message["Subject"]), tuple(envelope.rcpt_tos)
        )
        with self._lock:
            self.received.append(mail)
        return "250 OK"

    def start(self) -> "Sink":
        """Listen."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    def messages(self) -> list[Mail]:
        """Everything received so far."""
        with self._lock:
            return list(self.received)


# --- the shop's processes -------------------------------------------------------------


def environment(database_url: str, redis_url: str, mail_url: str, public_port: int) -> dict:
    """Production settings shared by both dynos, the worker and the commands (bench's, plus
    what the rehearsal needs). Rate limits stay on and shared through Redis; only the
    registrations per address are raised, since every simulated customer comes from
    127.0.0.1 while a real sale comes from thousands of addresses."""
    env = server_env(dict(os.environ), database_url)
    env.update(
        # Both dynos are addressed by the public name, as the router does (the host guard
        # refuses any other); the load client sends this Host to either port.
        PUBLIC_URL=f"https://127.0.0.1:{public_port}",
        REDIS_URL=redis_url,
        RATELIMIT_STORAGE_URI=redis_url,
        STRIPE_EMULATOR_API_KEY="sk_test_rehearsal_" + secrets.token_hex(16),
        MAIL_URL=mail_url,
        MAIL_FROM="Northside Roastery <orders@rehearsal.invalid>",
        MAIL_POLL_SECONDS="1",
        # A claim held by a worker that is SIGKILLed runs out after this; the shortest the
        # shop allows is 5 × MAIL_TIMEOUT. The defaults (20 s, 300 s) would leave a receipt
        # claimed by the killed worker unsent for 5 minutes, longer than a short run.
        MAIL_TIMEOUT="4",
        MAIL_CLAIM_SECONDS="20",
        REGISTER_IP_RATE_LIMIT=os.environ.get("REGISTER_IP_RATE_LIMIT", "100000 per minute"),
        LOG_LEVEL="INFO",
        FLASK_APP="wsgi:app",
        # The Procfile's commands (`flask`, `gunicorn`) from this virtualenv.
        PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        # gunicorn.conf.py's metrics directory lands here: a SIGKILLed master leaves it.
        TMPDIR=str(RESULTS),
    )
    return env


def run_command(name: str, env: dict, log: Path, timeout: float = 120) -> str:
    """Run a Procfile command (or any shell command) to its end; its output."""
    command = procfile().get(name, name)
    done = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    with log.open("a") as out:
        out.write(f"$ {command}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise RuntimeError(f"`{command}` failed ({done.returncode}); see {log}")
    return done.stdout


class Stack:
    """Two web dynos and a worker on one database, and the scheduled expiry."""

    def __init__(self, env: dict, ports: tuple[int, int]) -> None:
        self.env = env
        self.ports = ports
        self.dynos: list[servers.Server] = []
        self.worker: subprocess.Popen | None = None
        self.expiry_runs = 0
        self.expiry_delivered = 0
        self._stop = threading.Event()
        self._cron: threading.Thread | None = None

    def start(self) -> "Stack":
        """Both dynos, the worker, the scheduler."""
        for number, port in enumerate(self.ports, 1):
            self.dynos.append(self.start_dyno(number, port))
        self.worker = self.start_worker()
        self._cron = threading.Thread(target=self._expire_due_loop, daemon=True)
        self._cron.start()
        return self

    def start_dyno(self, number: int, port: int) -> servers.Server:
        """The Procfile's web process (gunicorn.conf.py, wsgi:app) on `port`."""
        log = RESULTS / f"web.{number}.log"
        config = ROOT / "gunicorn.conf.py"
        return servers.start(f"web.{number}", "wsgi:app", config, self.env, log, port=port)

    def start_worker(self) -> subprocess.Popen:
        """The Procfile's worker process."""
        with (RESULTS / "worker.log").open("ab") as log:
            return subprocess.Popen(
                ["/bin/sh", "-c", procfile()["worker"]],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, index: int) -> float:
        """SIGKILL one dyno's process group (master and workers) and the worker, then start
        both again on the same port, as the platform restarts a crashed dyno; seconds the
        dyno was away."""
        killed = time.monotonic()
        dyno = self.dynos[index]
        os.killpg(dyno.process.pid, signal.SIGKILL)
        if self.worker is not None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait()
        dyno.process.wait()
        self.worker = self.start_worker()
        self.dynos[index] = self.start_dyno(index + 1, dyno.port)
        return time.monotonic() - killed

    def expire_due(self) -> int:
        """One `flask emulator expire-due`; events it delivered."""
        out = run_command("flask emulator expire-due", self.env, RESULTS / "expire-due.log")
        delivered = re.search(r"delivered: (\d+)", out)
        self.expiry_runs += 1
        count = int(delivered.group(1)) if delivered else 0
        self.expiry_delivered += count
        return count

    def _expire_due_loop(self) -> None:
        """Every EXPIRE_DUE_EVERY seconds until stopped, as a scheduler would."""
        while not self._stop.wait(EXPIRE_DUE_EVERY):
            try:
                self.expire_due()
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                print(f"rehearsal: expire-due failed: {error}", flush=True)

    def stop_schedule(self) -> None:
        """No more scheduled runs (the last one finishes)."""
        self._stop.set()
        if self._cron is not None:
            self._cron.join(timeout=120)

    def stop(self) -> None:
        """Stop the scheduler, the worker (SIGTERM: it finishes the message in hand) and
        both dynos (SIGTERM: requests in flight finish)."""
        self.stop_schedule()
        _terminate(self.worker)
        for dyno in self.dynos:
            dyno.stop()

    def pids(self) -> dict[str, list[int]]:
        """Process ids by part: each dyno's master and workers, the worker."""
        found = {"web": [], "worker": []}
        for dyno in self.dynos:
            if dyno.process.poll() is None:
                found["web"] += [dyno.process.pid, *servers._children(dyno.process.pid)]
        if self.worker is not None and self.worker.poll() is None:
            found["worker"].append(self.worker.pid)
        return found


def _terminate(process: subprocess.Popen | None) -> None:
    """SIGTERM a process we started, then wait (SIGKILL after 30 s)."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
