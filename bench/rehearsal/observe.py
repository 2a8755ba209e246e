"""What limits throughput, measured while the load runs: CPU time by part (web dynos,
PostgreSQL backends of the rehearsal's database, the worker, the load client, everything
else on the machine), what PostgreSQL's active backends wait on, and the database's own
counters; and the dynos' request logs (time spent inside the app vs. what customers saw).
"""

import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

TICK = os.sysconf("SC_CLK_TCK")
#: One line of the shop's request log (logfmt): method, path, status, time inside the app,
#: and the client's address (empty for a webhook the emulator delivered in-process, inside
#: the request that paid: its time is already in that request's).
REQUEST_LINE = re.compile(
    r"msg=request .*?method=(\S+) path=(\S+) status=(\d+) duration_ms=([\d.]+) remote_addr=(\S*)"
)
#: Ids in paths, so that requests group by route.
IDS = re.compile(r"/(\d+|cs_test_\w+)(?=/|$)")


def _ticks(pid: int) -> int | None:
    """CPU ticks (user + system) a process has used, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def _machine() -> tuple[int, int]:
    """(busy, total) ticks of the whole machine, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Observer:
    """Samples every `every` seconds in a thread, from `start()` to `stop()`."""

    database_url: str
    #: Process ids by part, asked afresh at each sample (dynos restart, workers respawn).
    parts: Callable[[], dict[str, list[int]]]
    every: float = 1.0
    cpu: dict[str, dict[int, int]] = field(default_factory=dict)
    waits: Counter = field(default_factory=Counter)
    samples: int = 0
    database_before: dict = field(default_factory=dict)
    database_after: dict = field(default_factory=dict)
    _machine_start: tuple[int, int] = (0, 0)
    _machine_end: tuple[int, int] = (0, 0)
    _first_seen: dict[tuple[str, int], int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    seconds: float = 0.0

    def start(self) -> "Observer":
        """Begin sampling."""
        self.database_before = self._database_counters()
        self._machine_start = _machine()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """End sampling and read the counters once more."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._machine_end = _machine()
        self.seconds = time.monotonic() - self._started
        self.database_after = self._database_counters()

    def _run(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            while not self._stop.wait(self.every):
                self._sample(conn)

    def _sample(self, conn) -> None:
        """CPU of every process of each part; what active backends wait on."""
        rows = conn.execute(
            "SELECT pid, state, coalesce(wait_event_type || ':' || wait_event, 'on CPU') "
            "FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
        parts = dict(self.parts())
        parts["postgres"] = [pid for pid, _, _ in rows]
        for part, pids in parts.items():
            seen = self.cpu.setdefault(part, {})
            for pid in pids:
                ticks = _ticks(pid)
                if ticks is None:
                    continue
                # Running at the first sample: counts from there; started later (a new
                # connection, a restarted dyno): everything it used.
                self._first_seen.setdefault((part, pid), 0 if self.samples else ticks)
                seen[pid] = ticks
        for _pid, state, wait in rows:
            if state == "active":
                self.waits[wait] += 1
        self.samples += 1

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used by each part during the sampling."""
        used = {}
        for part, seen in self.cpu.items():
            ticks = sum(last - self._first_seen[(part, pid)] for pid, last in seen.items())
            used[part] = ticks / TICK
        return used

    def machine(self) -> tuple[float, float]:
        """(busy CPU seconds of the whole machine, CPU seconds it had) while sampling."""
        busy = self._machine_end[0] - self._machine_start[0]
        total = self._machine_end[1] - self._machine_start[1]
        return busy / TICK, total / TICK

    def average_waits(self) -> dict[str, float]:
        """Average number of active backends in each wait (or on CPU) per sample."""
        return {wait: n / max(1, self.samples) for wait, n in self.waits.most_common()}

    def _database_counters(self) -> dict:
        """Commits, rollbacks, deadlocks, lock waits so far, for the rehearsal's database."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT xact_commit, xact_rollback, deadlocks, blks_read, blks_hit, "
                "tup_inserted, tup_updated FROM pg_stat_database WHERE datname = "
                "current_database()"
            ).fetchone()
        names = ("commits", "rollbacks", "deadlocks", "blocks read", "blocks hit")
        return dict(zip(names + ("inserted", "updated"), row, strict=True))


@dataclass
class AppTimes:
    """What the dynos' request logs say: requests, statuses and time inside the app."""

    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    busy_ms: float = 0.0
    durations: list[float] = field(default_factory=list)
    #: Time inside the app by route ("POST /register"), in ms.
    by_route: Counter = field(default_factory=Counter)

    def percentile(self, share: float) -> float:
        """A percentile of the time inside the app, in ms."""
        ordered = sorted(self.durations)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def app_times(logs: list[Path]) -> AppTimes:
    """Read every request line of the dynos' logs (both lives of the killed one)."""
    found = AppTimes()
    for log in logs:
        with log.open(errors="replace") as lines:
            for line in lines:
                match = REQUEST_LINE.search(line)
                if not match:
                    continue
                method, path, status, ms, client = match.groups()
                found.statuses[status] += 1
                if client == '""':
                    continue  # in-process webhook: counted in the request that paid
                found.requests += 1
                found.busy_ms += float(ms)
                found.durations.append(float(ms))
                found.by_route[f"{method} {IDS.sub('/<id>', path)}"] += float(ms)
    return found
