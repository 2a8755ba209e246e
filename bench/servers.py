"""Start and stop the two gunicorn servers the benchmark drives, on 127.0.0.1 only."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody is listening on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running gunicorn master, its address and its log file."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        """The server's root url."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """SIGTERM the master (workers finish in-flight requests), then wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    name: str, app: str, config: Path, env: dict[str, str], log: Path, port: int | None = None
) -> Server:
    """Start `gunicorn --config config app` on `port` (a free local one by default); its
    output goes to `log`."""
    port = port or free_port()
    command = [sys.executable, "-m", "gunicorn", "--config", str(config)]
    # The command line wins over the config file: bind to loopback only, whatever PORT says.
    command += ["--bind", f"127.0.0.1:{port}", app]
    with open(log, "ab") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, "PORT": str(port)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches the bench, not gunicorn
        )
    server = Server(name, port, process, log)
    _wait_ready(server, workers=int(env.get("WEB_CONCURRENCY", "2")))
    return server


def _wait_ready(server: Server, workers: int, timeout: float = 30) -> None:
    """Wait until the server answers, then a little for every worker to have booted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited; see {server.log}")
        try:
            urllib.request.urlopen(server.url + "/healthz", timeout=2).read()
            break
        except urllib.error.HTTPError:
            break  # it answers (the hello app has no /healthz)
        except OSError:
            time.sleep(0.1)
    else:
        server.stop()
        raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s; see {server.log}")
    # Workers fork from a preloaded master within milliseconds of each other.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(_children(server.process.pid)) < workers:
        time.sleep(0.1)


def _children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (the gunicorn workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found
