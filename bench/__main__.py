"""`python -m bench` (`make bench`): the shop's main routes under load, next to bare Flask.

1. Checks the machine is quiet enough and says so.
2. Prepares the database (SQLite in bench/results/ by default, or `DATABASE_URL`): the seeded
   catalogue, a customer with a 10-line cart and 50 orders, and customers with 1 line and 1
   order, and 40 lines and 200 orders, whose SQL statements per request are counted in-process.
3. Starts the shop under gunicorn with the Procfile's settings in production mode
   (SECRET_KEY set, STRIPE_EMULATOR=1), and a bare Flask hello app with the same settings.
4. Drives each endpoint with wrk in rounds (hello included in every round), so that noise
   from other work on the machine spreads over all of them; reports medians and ratios.
5. Prints one table and the budgets; writes it to bench/results/latest.txt as well.

Gunicorn's and the shop's logs go to bench/results/*.log, not the terminal.
"""

import argparse
import contextlib
import json
import os
import secrets
import sys
import time
from pathlib import Path

from . import machine, overhead, queries, report, servers, wire
from .client import USER_AGENT, Browser
from .load import FORM, HTMX, Endpoint, Result, wrk
from .prepare import CUSTOMER, PASSWORD, prepare
from .weight import first_load

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
#: Active search as the page sends it: a word several products carry.
SEARCH = "coffee"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Durations and concurrency; the defaults keep a whole run under about three minutes."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per endpoint (medians)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per endpoint")
    parser.add_argument("--only", help="load only endpoints whose name contains this text")
    return parser.parse_args(argv)


def server_env(base: dict[str, str], database_url: str) -> dict[str, str]:
    """Production settings for both servers: a fresh secret, the emulator, no .env, no debug."""
    env = {
        name: value
        for name, value in base.items()
        if name not in {"FLASK_DEBUG", "STRIPE_SECRET_KEY", "PORT"}
    }
    env["DATABASE_URL"] = database_url
    env.setdefault("WEB_CONCURRENCY", "2")
    env.update(
        SECRET_KEY=secrets.token_hex(32),
        STRIPE_EMULATOR="1",
        STRIPE_WEBHOOK_SECRET="whsec_bench_" + secrets.token_hex(8),
        FLASK_SKIP_DOTENV="1",
        # The servers answer on 127.0.0.1 (any port): the only host they accept.
        PUBLIC_URL="http://127.0.0.1",
    )
    # Per-worker counters are fine for a measurement (the bench logs in once).
    env.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    # The JSON API counts every request; wrk from one address would spend a real limit in
    # a second. The counting itself is still measured.
    env.setdefault("API_TOKEN_RATE_LIMIT", "100000000 per minute")
    env.setdefault("API_IP_RATE_LIMIT", "100000000 per minute")
    return env


#: The SQLite run's own file.
SQLITE_URL = "sqlite:///" + str(RESULTS / "bench.db")
#: The PostgreSQL run's own database, on the server TEST_DATABASE_URL names.
POSTGRES_BENCH_DATABASE = "shop_bench"


def databases(env: dict[str, str]) -> list[str]:
    """The runs: SQLite (its own file, unless DATABASE_URL names another SQLite database),
    then PostgreSQL when DATABASE_URL or TEST_DATABASE_URL points at a server. With only
    TEST_DATABASE_URL, the run gets a database of its own there (`shop_bench`)."""
    given = env.get("DATABASE_URL", "")
    runs = [given if given.startswith("sqlite") else SQLITE_URL]
    if given.startswith("postgres"):
        runs.append(given)
    elif env.get("TEST_DATABASE_URL", "").startswith("postgres"):
        runs.append(bench_database(env["TEST_DATABASE_URL"]))
    return runs


def bench_database(server_url: str) -> str:
    """`shop_bench` on the server of `server_url`, created when missing."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url).set(drivername="postgresql")
    admin = url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (POSTGRES_BENCH_DATABASE,)
        ).fetchone()
        if not found:
            connection.execute(f'CREATE DATABASE "{POSTGRES_BENCH_DATABASE}"')
    return url.set(database=POSTGRES_BENCH_DATABASE).render_as_string(hide_password=False)


def fresh_sqlite(url: str) -> None:
    """Start from an empty file when the bench database is its own SQLite file."""
    if url == SQLITE_URL:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(str(RESULTS / "bench.db") + suffix).unlink(missing_ok=True)


def endpoints(
    cookie: str, token: str, product_id: int, event_body, api_token: str = "", sku: str = ""
) -> list[Endpoint]:
    """The benchmarked requests, as the page (or Stripe, or a script) sends them."""
    # The login's own browser: session protection empties a session sent by another one.
    user = {"Cookie": cookie, "User-Agent": USER_AGENT}
    form = f"product_id={product_id}&quantity=1".encode()
    script = {"Authorization": f"Bearer {api_token}", "User-Agent": USER_AGENT}
    api_add = json.dumps({"sku": sku, "quantity": 1}).encode()

    def webhook_headers() -> dict[str, str]:
        """A fresh signature, so the 5-minute tolerance never runs out mid-bench."""
        return {"Stripe-Signature": event_body()[1], "Content-Type": "application/json"}

    return [
        Endpoint("GET / (logged in)", "shop", "GET", "/", lambda: user, shows="Log out"),
        Endpoint("GET /?q= (htmx)", "shop", "GET", f"/?q={SEARCH}", lambda: {**user, **HTMX}),
        Endpoint("GET /cart (htmx)", "shop", "GET", "/cart", lambda: {**user, **HTMX}),
        Endpoint(
            "POST /cart/items (htmx)",
            "shop",
            "POST",
            "/cart/items",
            lambda: {**user, **HTMX, **FORM, "X-CSRFToken": token},
            lambda: form,
        ),
        Endpoint("GET /orders (htmx)", "shop", "GET", "/orders", lambda: {**user, **HTMX}),
        Endpoint(
            "POST /stripe/webhook (dup)",
            "shop",
            "POST",
            "/stripe/webhook",
            webhook_headers,
            lambda: event_body()[0],
        ),
        Endpoint("GET /healthz", "shop", "GET", "/healthz"),
        Endpoint("GET /api/v1/products", "shop", "GET", "/api/v1/products", lambda: script),
        Endpoint(
            "POST /api/v1/cart/items",
            "shop",
            "POST",
            "/api/v1/cart/items",
            lambda: {**script, "Content-Type": "application/json"},
            lambda: api_add,
        ),
    ]


def product_sku(app, product_id: int) -> str:
    """The SKU of the product the adds use (the API names products by SKU)."""
    from shop.catalog.models import Product
    from shop.extensions import db

    with app.app_context():
        return db.session.get(Product, product_id).sku


def preflight(browser: Browser, endpoint: Endpoint) -> None:
    """One request as wrk will send it: the expected status, and no new session cookie."""
    answer = browser.request(endpoint.method, endpoint.path, endpoint.body(), endpoint.headers())
    if answer.status != endpoint.expect:
        raise RuntimeError(f"{endpoint.name} answered {answer.status}: {answer.text[:200]}")
    if endpoint.shows and endpoint.shows not in answer.text:
        raise RuntimeError(f"{endpoint.name} does not show {endpoint.shows!r}: not signed in?")
    if answer.header("set-cookie"):
        # wrk replays one cookie: a session rewritten on every answer would be a cost the
        # shop's visitors pay too, so it is reported rather than worked around.
        print(f"  note: {endpoint.name} sets a cookie on every request", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark and print its table."""
    args = parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out: list[str] = []

    def say(line: str = "") -> None:
        """Print a line of the report and keep it for latest.txt."""
        print(line, flush=True)
        out.append(line)

    say(f"machine: {machine.describe()}")
    quiet = machine.idleness()
    say(quiet.describe())

    given = dict(os.environ)
    missed = []
    for database_url in databases(given):
        missed += run(args, server_env(given, database_url), say)
    os.environ.clear()
    os.environ.update(given)
    after = machine.idleness(0.2)
    say()
    say(f"load average after the run: {after.load1:.2f}")
    say("all budgets met" if not missed else f"budgets missed: {len(missed)}")
    (RESULTS / "latest.txt").write_text("\n".join(out) + "\n")
    print(f"(also in {RESULTS.relative_to(ROOT) / 'latest.txt'}; server logs beside it)")
    return 0


def wire_round_trips(env: dict[str, str], probes: dict) -> dict[str, int]:
    """Round trips per request on PostgreSQL: the probes again, by a second in-process app
    whose connections pass through a counting relay (`wire.RoundTripRelay`)."""
    from sqlalchemy import make_url

    from shop import create_app

    url = make_url(env["DATABASE_URL"])
    with wire.RoundTripRelay(url.host or "127.0.0.1", url.port or 5432) as relay:
        os.environ["DATABASE_URL"] = url.set(host="127.0.0.1", port=relay.port).render_as_string(
            hide_password=False
        )
        try:
            app = create_app({"LOG_LEVEL": "WARNING"})
            trips = queries.round_trips(app, CUSTOMER, probes, relay)
            with app.app_context():
                from shop.extensions import db

                db.engine.dispose()
        finally:
            os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    return trips


def run(args: argparse.Namespace, env: dict[str, str], say) -> list[str]:
    """One run on one database: prepare it, count statements, load every endpoint, and
    report; the budgets it missed."""
    fresh_sqlite(env["DATABASE_URL"])
    os.environ.clear()
    os.environ.update(env)  # the in-process app (preparation, query counts) reads the same
    from shop import create_app  # after the environment is set: it is read at creation

    started = time.monotonic()
    app = create_app({"LOG_LEVEL": "WARNING"})
    with open(RESULTS / "prepare.log", "w") as log, contextlib.redirect_stdout(log):
        prepared = prepare(app)  # migration logs go to the file, not the table
    _, event_body = queries.duplicate_event(env["STRIPE_WEBHOOK_SECRET"])
    product_id = prepared.product_ids[0]
    sku = product_sku(app, product_id)
    probes = queries.probes(product_id, SEARCH, event_body, prepared.api_token, sku)
    counts = queries.count_all(app, CUSTOMER, probes)
    trips = wire_round_trips(env, probes) if env["DATABASE_URL"].startswith("postgres") else {}
    overheads = overhead.costs(app, queries.login(app, CUSTOMER)[0])
    with app.app_context():
        from shop.extensions import db

        db.engine.dispose()
    database = "postgresql" if env["DATABASE_URL"].startswith("postgres") else "sqlite"
    print(f"prepared the {database} database in {time.monotonic() - started:.1f} s", flush=True)

    logs = {name: RESULTS / f"{name}-{database}.log" for name in ("shop", "hello")}
    for log in logs.values():
        log.unlink(missing_ok=True)
    shop = servers.start("shop", "wsgi:app", ROOT / "gunicorn.conf.py", env, logs["shop"])
    try:
        hello = servers.start(
            "hello",
            "bench.hello:app",
            ROOT / "bench" / "hello.gunicorn.conf.py",
            env,
            logs["hello"],
        )
    except Exception:
        shop.stop()
        raise
    try:
        browser = Browser(shop.port)
        token = browser.login(CUSTOMER, PASSWORD)
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        targets = endpoints(cookie, token, product_id, event_body, prepared.api_token, sku)
        if args.only:
            targets = [t for t in targets if args.only in t.name]
        for endpoint in targets:
            preflight(browser, endpoint)
        html_bytes, assets = first_load(browser)
        baseline = Endpoint("hello (bare Flask)", "hello", "GET", "/")
        urls = {"shop": shop.url, "hello": hello.url}
        plan = [baseline, *targets]
        print(
            f"load: {args.rounds} rounds × {len(plan)} endpoints × {args.seconds:g} s, "
            f"{args.connections} connections, {env['WEB_CONCURRENCY']} gunicorn workers each",
            flush=True,
        )
        for endpoint in plan:  # every worker compiles its templates and opens its connection
            wrk(urls[endpoint.server], endpoint, args.warmup, args.connections, args.threads)
        results = {endpoint.name: Result(endpoint) for endpoint in plan}
        for round_number in range(1, args.rounds + 1):
            for endpoint in plan:
                sample = wrk(
                    urls[endpoint.server], endpoint, args.seconds, args.connections, args.threads
                )
                results[endpoint.name].samples.append(sample)
            print(f"  round {round_number} done", flush=True)
    finally:
        shop.stop()
        hello.stop()

    say()
    say(
        f"{args.connections} connections, {env['WEB_CONCURRENCY']} workers, "
        f"median of {args.rounds} × {args.seconds:g} s per endpoint, {database}"
    )
    hello_result = results.pop(baseline.name)
    loaded = list(results.values())
    say(report.table(hello_result, loaded, counts, trips))
    say()
    say("first page load (Accept-Encoding: gzip):")
    say(report.assets_block(html_bytes, assets))
    say()
    say("every request's layers, in-process (best of 7 repeats, µs per request):")
    say("  " + ", ".join(f"{name} {us:.0f}" for name, us in overheads.items()))
    say()
    say(f"budgets ({database}):")
    if args.only:
        say("  (not checked: --only loads a subset)")
        return []
    found = report.checks(hello_result, loaded, counts, assets, trips)
    for check in found:
        say(check.line())
    return [check.text for check in found if not check.met]


if __name__ == "__main__":
    sys.exit(main())
