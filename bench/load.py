"""The endpoints under load and the wrk runs that measure them."""

import json
import os
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "wrk" / "request.lua"
HTMX = {"HX-Request": "true"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Endpoint:
    """One request shape: which server, method, path, headers and body, and what it answers."""

    name: str
    server: str  # "shop" or "hello"
    method: str
    path: str
    headers: Callable[[], dict[str, str]] = dict  # called per run: a webhook is signed afresh
    body: Callable[[], bytes] = bytes
    expect: int = 200
    #: Text the answer must hold (checked once before the load): "Log out" on a page that
    #: must be the signed-in one, not the visitor's.
    shows: str | None = None


@dataclass
class Sample:
    """One wrk run's figures."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


@dataclass
class Result:
    """The samples of one endpoint over all rounds, summarised by their medians."""

    endpoint: Endpoint
    samples: list[Sample] = field(default_factory=list)

    def median(self, name: str) -> float:
        """The median of one figure over the rounds."""
        return statistics.median(getattr(sample, name) for sample in self.samples)

    @property
    def errors(self) -> int:
        """Errors over all rounds (they should be none)."""
        return sum(sample.errors for sample in self.samples)


def wrk(url: str, endpoint: Endpoint, seconds: int, connections: int, threads: int) -> Sample:
    """Drive `url + endpoint.path` with wrk for `seconds`; its Lua script reports one JSON line."""
    headers = endpoint.headers()
    env = {
        **os.environ,
        "BENCH_METHOD": endpoint.method,
        "BENCH_BODY": endpoint.body().decode(),
        "BENCH_HEADERS": "\n".join(f"{name}: {value}" for name, value in headers.items()),
    }
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
    command += ["-s", str(SCRIPT), url + endpoint.path]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed on {endpoint.name}: {done.stderr.strip() or done.stdout}")
    figures = json.loads(line.removeprefix("BENCH "))
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Sample(
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=errors,
        requests=figures["requests"],
    )
