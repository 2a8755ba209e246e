"""`python -m bench.rehearsal` (`make rehearsal`): a sale day on loopback, then the books.

1. Starts what a deployment runs, on 127.0.0.1 only: PostgreSQL (a fresh database, dropped
   at the end), a Redis of its own, an SMTP sink in this process, the Procfile's `release`,
   two copies of its `web` process (two dynos) and its `worker`, and `flask emulator
   expire-due` every 15 s as a scheduler would. Production settings throughout.
2. Runs Locust headless (`customers.py`) for REHEARSAL_MINUTES (default 5), ramping up to
   REHEARSAL_USERS customers at once; halfway, SIGKILLs dyno 2 and the worker and starts
   them again.
3. Lets the system settle (the outbox drained, the last expiries delivered, `flask payments
   reconcile` run once), checks that a login limit is counted across both dynos, stops
   everything, and reconciles the database, the emulator and the SMTP sink.
4. Prints the table, the checks and one last line; exits 0 only when every check holds.
"""

import json
import os
import subprocess
import sys
import threading
import time

from .. import machine
from . import checks, report, stack
from .observe import Observer, app_times

#: Customers at once, and how many seconds the ramp-up takes (at most a fifth of the run).
USERS = int(os.environ.get("REHEARSAL_USERS", "120"))
RAMP_SECONDS = 60
#: Products with little stock and the units they start with, per minute of the run (so
#: that they sell out part-way whatever the length); every other product has plenty.
LOW_STOCK_PER_MINUTE = {"GEAR-GRINDER": 6, "TOTE-CANVAS": 12, "GEAR-V60-02": 30}
PLENTY = 100_000
#: How long the end waits for the outbox to drain.
DRAIN_SECONDS = 120


def say(line: str = "") -> None:
    """Print a line of the report now."""
    print(line, flush=True)


def uptime() -> str:
    """What `uptime` says (the load averages)."""
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def set_stock(database_url: str, minutes: float) -> dict[str, int]:
    """Give every product its starting stock, as an admin would before the sale; by sku."""
    with checks.connect(database_url) as conn:
        skus = [sku for (sku,) in conn.execute("SELECT sku FROM products").fetchall()]
        start = {
            sku: max(1, round(LOW_STOCK_PER_MINUTE[sku] * minutes))
            if sku in LOW_STOCK_PER_MINUTE
            else PLENTY
            for sku in skus
        }
        for sku, units in start.items():
            conn.execute(
                "UPDATE products SET stock = %s, reserved = 0 WHERE sku = %s", (units, sku)
            )
    return start


def wait_for_outbox(database_url: str, seconds: float) -> int:
    """Wait until no message is waiting to be sent (or the time is up); those still waiting."""
    deadline = time.monotonic() + seconds
    with checks.connect(database_url) as conn:
        while True:
            waiting = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'")
            left = waiting.fetchone()[0]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(1)


def run_load(
    env: dict, backends: list[str], public_host: str, seconds: int, results: str
) -> subprocess.Popen:
    """Start Locust headless on customers.py; its output goes to locust.log."""
    rate = max(1.0, USERS / min(RAMP_SECONDS, seconds / 5))
    load_env = {
        **env,
        "REHEARSAL_BACKENDS": ",".join(backends),
        "REHEARSAL_PUBLIC_HOST": public_host,
        "REHEARSAL_API_KEY": env["STRIPE_EMULATOR_API_KEY"],
        "REHEARSAL_RESULTS": results,
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(stack.ROOT / "bench/rehearsal/customers.py"),
    ]
    command += ["--headless", "--users", str(USERS), "--spawn-rate", f"{rate:.2f}"]
    command += ["--run-time", f"{seconds}s", "--only-summary", "--exit-code-on-error", "0"]
    with (stack.RESULTS / "locust.log").open("wb") as log:
        return subprocess.Popen(
            command, cwd=stack.ROOT, env=load_env, stdout=log, stderr=subprocess.STDOUT
        )


def main() -> int:
    """Run the rehearsal; 0 only when every check holds."""
    minutes = float(os.environ.get("REHEARSAL_MINUTES", "5"))
    seconds = int(minutes * 60)
    stack.RESULTS.mkdir(parents=True, exist_ok=True)
    for old in stack.RESULTS.glob("*.log"):
        old.unlink()
    say(f"machine: {machine.describe()}")
    say(machine.idleness().describe())
    say(f"uptime: {uptime()}")

    stack.ensure_postgres()
    database_url = stack.create_database()
    redis = stack.Redis()
    sink = stack.Sink()
    running: stack.Stack | None = None
    try:
        redis.start()
        sink.start()
        ports = (stack.servers.free_port(), stack.servers.free_port())
        env = stack.environment(database_url, redis.url, sink.url, ports[0])
        public_host = f"127.0.0.1:{ports[0]}"
        stack.run_command("release", env, stack.RESULTS / "release.log")
        start_stock = set_stock(database_url, minutes)
        running = stack.Stack(env, ports).start()
        workers = int(env["WEB_CONCURRENCY"])
        say(
            f"started: 2 web dynos × {workers} gunicorn workers on ports {ports[0]} and "
            f"{ports[1]}, the worker, Redis on {redis.port}, SMTP sink on {sink.port}, "
            f"database {database_url.rsplit('/', 1)[1]}"
        )
        results = str(stack.RESULTS / "locust.json")
        backends = [f"http://127.0.0.1:{port}" for port in ports]
        began = time.time()
        load = run_load(env, backends, public_host, seconds, results)
        observer = Observer(
            database_url, lambda: {**running.pids(), "load client": [load.pid]}
        ).start()
        say(f"load: {USERS} customers at once after a ramp-up, for {minutes:g} min")

        fault: dict = {}

        def inject() -> None:
            """Halfway: SIGKILL dyno 2 and the worker, start both again."""
            fault["at"] = time.time() - began
            fault["away"] = running.kill(1)
            say(
                f"fault at {fault['at']:.0f} s: dyno 2 and the worker SIGKILLed, dyno 2 "
                f"answering again after {fault['away']:.1f} s"
            )

        timer = threading.Timer(seconds / 2, inject)
        timer.start()
        load.wait(timeout=seconds + 180)
        timer.join()
        observer.stop()
        say(f"load done after {time.time() - began:.0f} s; settling")

        left = wait_for_outbox(database_url, DRAIN_SECONDS)
        running.stop_schedule()
        running.expire_due()  # the expiries of the last seconds, as the next cron run would
        with checks.connect(database_url) as conn:
            before_reconcile = checks.unsettled(conn)
        reconciled = stack.run_command(
            "flask payments reconcile --since 1", env, stack.RESULTS / "reconcile.log"
        )
        left = wait_for_outbox(database_url, DRAIN_SECONDS)
        figures = checks.Figures()
        checks.shared_limits(backends, public_host, redis.url, figures)
        expiry = (
            f"{running.expiry_runs} runs of expire-due delivered {running.expiry_delivered} events"
        )
        running.stop()
        running = None
        logs = sorted(stack.RESULTS.glob("web.*.log"))
        app = app_times(logs)

        with open(results) as file:
            load_results = json.load(file)
        table, slow_share = report.steps_table(load_results["steps"])
        causes = load_results["causes"]
        client_5xx = sum(c[-1] for c in causes if c[0] == "5xx")
        logged_5xx = sum(n for status, n in app.statuses.items() if status.startswith("5"))
        with checks.connect(database_url) as conn:
            checks.payments(conn, figures)
            checks.receipts(conn, sink.messages(), figures)
            stock_rows = checks.stock(conn, start_stock, figures)
            checks.pending(conn, figures)
            checks.webhooks(conn, figures)
            checks.server_errors(conn, client_5xx, logged_5xx, figures)
            expected = checks.client_errors(causes, figures)
            per_minute = checks.purchases_per_minute(conn, began)

        say()
        say(f"sale-day rehearsal: {minutes:g} min, {USERS} customers at once, 2 dynos × {workers}")
        say(table)
        say(f"requests over 1 s: {slow_share:.2%} (the load's target: under 1 %)")
        say("purchases completed per minute: " + ", ".join(map(str, per_minute)))
        say("customers' runs: " + ", ".join(f"{n} {k}" for k, n in
                                             sorted(load_results["journeys"].items(),
                                                    key=lambda kv: -kv[1])))  # fmt: skip
        say("4xx by cause: " + (", ".join(f"{n} {c}" for c, n in expected.items()) or "none"))
        errors = [c for c in causes if c[0] in ("connection error", "5xx", "retried")]
        say("errors met and retried: " + (", ".join(f"{c[-1]} {c[0]} ({c[1]}: {c[2]})"
                                                     for c in errors) or "none"))  # fmt: skip
        injected = (
            f"at {fault['at']:.0f} s, dyno 2 back after {fault['away']:.1f} s" if fault else "none"
        )
        say(f"fault: {injected}; {expiry}")
        reconcile_line = reconciled.strip().splitlines()[-1] if reconciled.strip() else ""
        say(f"before the final `flask payments reconcile`: {before_reconcile}")
        say(f"final `flask payments reconcile`: {reconcile_line}; outbox left: {left}")
        say("stock: sku, start, available, reserved, sold, sold late")
        for row in stock_rows:
            say("  " + "  ".join(str(v) for v in row))
        say("what limits throughput:")
        client_p50 = report.percentile(
            {k: v for s in load_results["steps"].values() for k, v in s["times"].items()}, 0.5
        )
        for line in report.throughput(observer, app, 2 * workers, client_p50):
            say(line)
        say(f"uptime after: {uptime()}")
        say("checks:")
        for check in figures.checks:
            say(check.line())
        say(
            f"rehearsal: {figures.purchases} purchases, {figures.lost} lost, "
            f"{figures.doubled} doubled, {figures.oversold} oversold, "
            f"{figures.server_errors} 5xx"
        )
        return 0 if figures.all_true else 1
    finally:
        if running is not None:
            running.stop()
        sink.stop()
        redis.stop()
        stack.drop_database(database_url)


if __name__ == "__main__":
    sys.exit(main())
