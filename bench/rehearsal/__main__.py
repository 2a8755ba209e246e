"""`python -m bench.rehearsal` (`make rehearsal`): a sale day on loopback, then the books.

1. Starts what a deployment runs, on 127.0.0.1 only: PostgreSQL (a fresh database, dropped
   at the end), a Redis of its own, an SMTP sink in this process, the Procfile's `release`,
   two copies of its `web` process (two dynos) and its `worker`, and `flask emulator
   expire-due` every 15 s as a scheduler would. Production settings throughout.
2. Runs Locust headless (`customers.py`) for REHEARSAL_MINUTES (default 5), ramping up to
   the most customers at once the machine serves with under 1 % of requests over a second
   (or REHEARSAL_USERS); halfway, SIGKILLs dyno 2 and the worker and starts them again.
3. Lets the system settle (the outbox drained, the last expiries delivered, the worker's
   `flask orders expire-overdue` and `flask payments reconcile` run once), checks that a
   login limit is counted across both dynos, stops everything, and reconciles the
   database, the emulator and the SMTP sink.
4. Prints the table, the checks and one last line; exits 0 only when every check holds.
"""

import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time

from .. import machine
from . import checks, report, stack
from .observe import Observer, app_times

#: Products with little stock and the units they start with, per minute of the run (so
#: that they sell out part-way whatever the length); every other product has plenty.
LOW_STOCK_PER_MINUTE = {"GEAR-GRINDER": 6, "TOTE-CANVAS": 12, "GEAR-V60-02": 30}
PLENTY = 100_000
#: How long the end waits for the outbox to drain.
DRAIN_SECONDS = 120
#: The sale's limited code: what it takes off and the uses every customer shares.
SALE_CODE, SALE_CODE_USES, SALE_CODE_PERCENT = "SALE50", 50, 15


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
    """Start Locust headless on customers.py (its SaleDay shape sets how many customers at
    once, and stops the run); its output goes to locust.log."""
    load_env = {
        **env,
        "REHEARSAL_BACKENDS": ",".join(backends),
        "REHEARSAL_PUBLIC_HOST": public_host,
        "REHEARSAL_API_KEY": env["STRIPE_EMULATOR_API_KEY"],
        "REHEARSAL_RESULTS": results,
        "REHEARSAL_SECONDS": str(seconds),
        "REHEARSAL_CODE": SALE_CODE,
    }
    locustfile = stack.ROOT / "bench" / "rehearsal" / "customers.py"
    command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless"]
    command += ["--only-summary", "--exit-code-on-error", "0"]
    with (stack.RESULTS / "locust.log").open("wb") as log:
        return subprocess.Popen(
            command, cwd=stack.ROOT, env=load_env, stdout=log, stderr=subprocess.STDOUT
        )


def main() -> int:
    """Run the rehearsal; 0 only when every check holds."""
    minutes = float(os.environ.get("REHEARSAL_MINUTES", "5"))
    stack.RESULTS.mkdir(parents=True, exist_ok=True)
    for old in stack.RESULTS.glob("*.log"):
        old.unlink()
    for left in stack.RESULTS.glob("shop-metrics-*"):  # left by SIGKILLed gunicorn masters
        shutil.rmtree(left, ignore_errors=True)
    quiet = machine.idleness()
    say(f"machine: {machine.cores()} × {machine.cpu_model()}, Python {platform.python_version()}")
    say(f"before: {uptime()}; {quiet.busy_share:.0%} CPU busy during a 1 s probe")
    stack.ensure_postgres()
    database_url = stack.create_database()
    redis, sink = stack.Redis(), stack.Sink()
    running: stack.Stack | None = None
    try:
        redis.start()
        sink.start()
        ports = (stack.servers.free_port(), stack.servers.free_port())
        env = stack.environment(database_url, redis.url, sink.url, ports[0])
        stack.run_command("release", env, stack.RESULTS / "release.log")
        start_stock = set_stock(database_url, minutes)
        running = stack.Stack(env, ports).start()
        stack.run_command(
            f"python -m bench.rehearsal.sale_code {SALE_CODE} {SALE_CODE_USES} {SALE_CODE_PERCENT}",
            env,
            stack.RESULTS / "sale-code.log",
        )
        say(
            f"started: 2 web dynos × {env['WEB_CONCURRENCY']} gunicorn workers on ports "
            f"{ports[0]} and {ports[1]}, the worker, Redis on {redis.port}, the SMTP sink on "
            f"{sink.port}, database {database_url.rsplit('/', 1)[1]}"
        )
        run = sale(running, env, ports, int(minutes * 60), database_url)
        settle(run, running, env, database_url)
        figures = checks.Figures()
        checks.shared_limits(run.backends, run.public_host, redis.url, figures)
        run.expiry = (
            f"{running.expiry_runs} runs of expire-due delivered {running.expiry_delivered} events"
        )
        running.stop()
        running = None
        reconcile(run, figures, database_url, start_stock, sink.messages())
        for line in report.lines(run, figures, minutes, int(env["WEB_CONCURRENCY"])):
            say(line)
        say(f"after: {uptime()}")
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


def sale(running: stack.Stack, env: dict, ports, seconds: int, database_url: str) -> report.Run:
    """The load, with the fault halfway; what it measured."""
    run = report.Run(
        backends=[f"http://127.0.0.1:{port}" for port in ports],
        public_host=f"127.0.0.1:{ports[0]}",
        began=time.time(),
    )
    results = stack.RESULTS / "locust.json"
    load = run_load(env, run.backends, run.public_host, seconds, str(results))
    run.observer = Observer(database_url, lambda: {**running.pids(), "load client": [load.pid]})
    run.observer.start()
    say(f"load: {seconds / 60:g} min, ramping up to the most customers at once the machine serves")

    def inject() -> None:
        """Halfway: SIGKILL dyno 2 and the worker, start both again."""
        at = run.fault_at = time.time() - run.began
        away = running.kill(1)
        run.fault = (
            f"at {at:.0f} s dyno 2 and the worker were SIGKILLed; dyno 2 answered again "
            f"after {away:.1f} s"
        )
        say(f"fault: {run.fault}")

    def dispute() -> None:
        """A little after the fault: a customer's bank disputes a paid order."""
        with checks.connect(database_url) as conn:
            found = conn.execute(
                "SELECT id FROM orders WHERE status = 'paid' ORDER BY id LIMIT 1"
            ).fetchone()
        if found is None:
            return
        run.disputed = found[0]
        stack.run_command(
            f"flask emulator dispute {run.disputed}", env, stack.RESULTS / "dispute.log"
        )
        say(f"dispute: opened on order {run.disputed} at {time.time() - run.began:.0f} s")

    timer = threading.Timer(seconds / 2, inject)
    timer.daemon = True
    timer.start()
    dispute_timer = threading.Timer(seconds * 0.6, dispute)
    dispute_timer.daemon = True
    dispute_timer.start()
    try:
        load.wait(timeout=seconds + 180)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if load.poll() is None:
            load.kill()  # the run stops by itself, whatever Locust does
            load.wait()
        timer.cancel()  # no fault after the load (a fault already under way finishes)
        dispute_timer.cancel()
    timer.join()
    dispute_timer.join()
    run.observer.stop()
    say(f"load done after {time.time() - run.began:.0f} s; settling")
    run.load = json.loads(results.read_text())
    return run


def settle(run: report.Run, running: stack.Stack, env: dict, database_url: str) -> None:
    """What happens after the sale: the outbox drains, the next scheduled expire-due
    delivers the last expiries, and a reconcile pass (said whether it was needed)."""
    wait_for_outbox(database_url, DRAIN_SECONDS)
    running.stop_schedule()
    running.expire_due()
    # The worker's own duty, once more as a scheduler would run it: pending orders past
    # expiry, and claims a crash left without a session (STALE_CLAIM_AFTER), are settled.
    stack.run_command("flask orders expire-overdue", env, stack.RESULTS / "expire-overdue.log")
    with checks.connect(database_url) as conn:
        run.before_reconcile = checks.unsettled(conn)
    out = stack.run_command(
        "flask payments reconcile --since 1", env, stack.RESULTS / "reconcile.log"
    )
    run.reconciled = out.strip().splitlines()[-1] if out.strip() else "(no output)"
    run.outbox_left = wait_for_outbox(database_url, DRAIN_SECONDS)


def reconcile(run: report.Run, figures, database_url: str, start_stock: dict, mail) -> None:
    """Every check, from the database, the emulator's tables, the sink and the load's counts."""
    run.app = app_times(sorted(stack.RESULTS.glob("web.*.log")))
    causes = run.load["causes"]
    client_5xx = sum(cause[-1] for cause in causes if cause[0] == "5xx")
    logged_5xx = sum(n for status, n in run.app.statuses.items() if status.startswith("5"))
    with checks.connect(database_url) as conn:
        checks.payments(conn, figures)
        checks.receipts(conn, mail, figures)
        run.stock = checks.stock(conn, start_stock, figures)
        checks.pending(conn, figures)
        checks.webhooks(conn, figures)
        checks.server_errors(conn, client_5xx, logged_5xx, figures)
        run.expected = checks.client_errors(causes, figures)
        run.code = checks.sale_code(conn, SALE_CODE, SALE_CODE_USES, figures)
        checks.replays(run.load.get("replays", {}), figures)
        checks.dispute(conn, run.disputed, figures)
        checks.slow_outside_fault(run.load["shape"]["windows"], run.fault_at, figures)
        run.per_minute = checks.purchases_per_minute(conn, run.began)
        run.customers = conn.execute("SELECT count(*) FROM users").fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
