"""The rehearsal's table and its throughput figures, as text."""

from .observe import AppTimes, Observer

#: The journey's steps in the order a customer takes them (others follow, by name).
STEPS = [
    "register: form", "register: submit", "login: form", "login: submit", "home", "search",
    "product", "add", "change", "checkout", "cart", "cart: lower", "cart: remove",
    "pay: page", "pay", "success", "orders", "expire (Stripe)",
]  # fmt: skip
SLOW_MS = 1000


def percentile(times: dict[str, int], share: float) -> float:
    """A percentile of Locust's response-time histogram ({rounded ms: count})."""
    ordered = sorted((float(ms), n) for ms, n in times.items())
    total = sum(n for _, n in ordered)
    if not total:
        return 0.0
    seen = 0
    for ms, n in ordered:
        seen += n
        if seen >= share * total:
            return ms
    return ordered[-1][0]


def slow(times: dict[str, int]) -> int:
    """Requests that took more than a second."""
    return sum(n for ms, n in times.items() if float(ms) > SLOW_MS)


def steps_table(steps: dict[str, dict]) -> tuple[str, float]:
    """One row per step: requests, p50, p99, share over 1 s, errors; and that share overall."""
    names = [s for s in STEPS if s in steps] + sorted(set(steps) - set(STEPS))
    header = f"{'step':<18} {'requests':>8} {'p50 ms':>7} {'p99 ms':>7} {'> 1 s':>6} {'errors':>6}"
    rows = [header, "-" * len(header)]
    every: dict[str, int] = {}
    for name in names:
        step = steps[name]
        for ms, n in step["times"].items():
            every[ms] = every.get(ms, 0) + n
        rows.append(_row(name, step["requests"], step["times"], step["failures"]))
    total = sum(s["requests"] for s in steps.values())
    failures = sum(s["failures"] for s in steps.values())
    rows.append("-" * len(header))
    rows.append(_row("all requests", total, every, failures))
    return "\n".join(rows), slow(every) / max(1, total)


def _row(name: str, requests: int, times: dict[str, int], failures: int) -> str:
    """One line of the steps table."""
    share = slow(times) / max(1, requests)
    return (
        f"{name:<18} {requests:>8} {percentile(times, 0.5):>7.0f} "
        f"{percentile(times, 0.99):>7.0f} {share:>6.1%} {failures:>6}"
    )


def throughput(observer: Observer, app: AppTimes, workers: int, client_p50: float) -> list[str]:
    """Where the time went: CPU by part, the app's own time vs. what customers saw, and
    what PostgreSQL's busy backends waited on."""
    busy, capacity = observer.machine()
    seconds = observer.seconds
    cpu = observer.cpu_seconds()
    ours = sum(cpu.values())
    lines = [
        f"  CPU, {seconds:.0f} s of load on {capacity / max(seconds, 1):.0f} cores "
        f"({capacity:.0f} CPU-seconds): machine {busy / capacity:.0%} busy; "
        + ", ".join(f"{part} {used / capacity:.0%}" for part, used in sorted(cpu.items()))
        + f", everything else on the machine {max(0.0, busy - ours) / capacity:.0%}"
    ]
    if app.requests:
        utilisation = app.busy_ms / 1000 / (workers * seconds) if seconds else 0.0
        lines.append(
            f"  inside the app (request logs, {app.requests} requests): p50 "
            f"{app.percentile(0.5):.0f} ms, p99 {app.percentile(0.99):.0f} ms; customers' p50 "
            f"{client_p50:.0f} ms: the rest is waiting for a free gunicorn worker. The "
            f"{workers} sync workers were busy {utilisation:.0%} of the time"
        )
    waits = observer.average_waits()
    active = sum(waits.values())
    locks = sum(n for wait, n in waits.items() if wait.startswith("Lock:"))
    before, after = observer.database_before, observer.database_after
    delta = {name: after[name] - before[name] for name in after}
    lines.append(
        f"  PostgreSQL: {active:.2f} backends active on average ("
        + ", ".join(f"{wait} {n:.2f}" for wait, n in list(waits.items())[:6])
        + f"); lock waits {locks / max(active, 1e-9):.0%} of active time; "
        f"{delta['commits'] / max(seconds, 1):.0f} commits/s, {delta['rollbacks']} rollbacks, "
        f"{delta['deadlocks']} deadlocks, {delta['blocks read']} blocks read from disk"
    )
    return lines
