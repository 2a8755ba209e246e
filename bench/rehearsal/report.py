"""The rehearsal's table and its throughput figures, as text."""

from dataclasses import dataclass, field

from .observe import AppTimes, Observer

#: The journey's steps in the order a customer takes them (others follow, by name).
STEPS = [
    "register: form", "register: submit", "login: form", "login: submit", "home", "search",
    "product", "add", "change", "checkout", "cart", "cart: lower", "cart: remove",
    "pay: page", "pay", "success", "orders", "expire (Stripe)",
]  # fmt: skip
SLOW_MS = 1000


@dataclass
class Run:
    """What one rehearsal measured, for the report."""

    backends: list[str]
    public_host: str
    began: float
    observer: Observer | None = None
    load: dict = field(default_factory=dict)
    fault: str = "not injected (the run ended first)"
    #: Seconds into the run when the fault was injected.
    fault_at: float | None = None
    expiry: str = ""
    before_reconcile: str = ""
    reconciled: str = ""
    outbox_left: int = 0
    app: AppTimes = field(default_factory=AppTimes)
    stock: list[tuple] = field(default_factory=list)
    expected: dict[str, int] = field(default_factory=dict)
    per_minute: list[int] = field(default_factory=list)
    customers: int = 0
    #: The order whose charge was disputed mid-run (None: none was paid yet).
    disputed: int | None = None
    #: The limited code: paid orders that used it, Stripe's count, what it took off.
    code: dict = field(default_factory=dict)


def lines(run: Run, figures, minutes: float, workers: int) -> list[str]:
    """The report: the steps table, the sale's figures, the stock, what limits throughput."""
    shape, steps = run.load["shape"], run.load["steps"]
    table, slow_share = steps_table(steps)
    settled = since(shape["histogram_settled"], shape["histogram_at_end"])
    changes = shape["changes"]
    ramp = ", ".join(f"{users} at {at} s" for at, users in changes[:: max(1, len(changes) // 6)])
    every = {}
    for step in steps.values():
        for ms, n in step["times"].items():
            every[ms] = every.get(ms, 0) + n
    journeys = sorted(run.load["journeys"].items(), key=lambda item: -item[1])
    retried = [
        c
        for c in run.load["causes"]
        if c[0] in ("connection error", "5xx") or (c[0] == "retried" and "existed" in c[2])
    ]
    out = [
        "",
        f"sale-day rehearsal: {minutes:g} min, 2 dynos × {workers} gunicorn workers, "
        f"{shape['held']} customers at once from {shape['held_from']} s, "
        f"{changes[-1][1] if changes else 0} at the end (ramp: {ramp})",
        table,
        f"requests over 1 s: {slow_share:.2%} of all, "
        f"{slow(settled) / max(1, sum(settled.values())):.2%} of the {sum(settled.values())} "
        f"once the level settled (from {shape['settled_from']} s; the target: under 1 %); "
        "by minute: " + _by_minute(shape["windows"]),
        "purchases completed per minute: "
        + ", ".join(map(str, run.per_minute))
        + f" (the last minute partial); {run.customers} customers registered, "
        f"{sum(s['requests'] for s in steps.values()) / max(1.0, run.observer.seconds):.1f} "
        "requests/s on average",
        "customers' runs: " + ", ".join(f"{n} {how}" for how, n in journeys),
        "4xx by cause: " + (", ".join(f"{n} {c}" for c, n in run.expected.items()) or "none"),
        f"fault: {run.fault}",
        f"the limited code: {run.code.get('orders', 0)} paid orders used it (Stripe counted "
        f"{run.code.get('at_stripe', 0)}), taking off {run.code.get('discount_cents', 0)} "
        "minor units in all",
        "API replays (each request sent again with its idempotency key): "
        + (", ".join(f"{n} {how}" for how, n in run.load.get("replays", {}).items()) or "none"),
        f"dispute: opened on order {run.disputed}" if run.disputed else "dispute: none opened",
        "errors customers met, each tried again on the next dyno: " + _errors(retried),
        f"expiry: {run.expiry}",
        f"before the final `flask payments reconcile`: {run.before_reconcile}; it said: "
        f"{run.reconciled}; outbox left unsent: {run.outbox_left}",
        "stock (units): sku, start, available, reserved, sold, sold late",
        *(
            f"  {sku:<16} {start:>7} {left:>7} {held:>4} {sold:>5} {late:>3}"
            for sku, start, left, held, sold, late in run.stock
        ),  # fmt: skip
        "what limits throughput:",
        *throughput(run.observer, run.app, 2 * workers, percentile(every, 0.5)),
    ]
    return out


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


#: What the load client's connection errors mean here.
ERROR_NAMES = {
    "ConnectionRefusedError": "refused (the dyno was down)",
    "HTTPConnectionClosed": "cut in flight (the dyno died)",
    "RemoteDisconnected": "cut in flight (the dyno died)",
    "ConnectionResetError": "cut in flight (the dyno died)",
}


def _errors(causes: list[list]) -> str:
    """Connection errors and 5xx, by kind, with the steps they hit."""
    kinds: dict[str, dict[str, int]] = {}
    for kind, step, detail, count in causes:
        name = ERROR_NAMES.get(detail, detail) if kind != "5xx" else f"{kind} {detail}"
        steps = kinds.setdefault(name, {})
        steps[step] = steps.get(step, 0) + count
    return (
        "; ".join(
            f"{sum(steps.values())} {name} ("
            + ", ".join(f"{step} {n}" for step, n in sorted(steps.items(), key=lambda i: -i[1]))
            + ")"
            for name, steps in kinds.items()
        )
        or "none"
    )


def _by_minute(windows: list[list[int]]) -> str:
    """The share of requests over 1 s in each minute, from the 10-second windows."""
    minutes: dict[int, list[int]] = {}
    for second, _users, total, over in windows:
        counts = minutes.setdefault((second - 1) // 60, [0, 0])
        counts[0] += total
        counts[1] += over
    return ", ".join(f"{over / max(1, total):.1%}" for total, over in minutes.values())


def since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The histogram of the requests between two cumulative snapshots."""
    return {ms: n - before.get(ms, 0) for ms, n in after.items() if n - before.get(ms, 0)}


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
        lines.append(
            "  the app's time by route: "
            + ", ".join(
                f"{route} {ms / app.busy_ms:.0%}" for route, ms in app.by_route.most_common(6)
            )
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
