"""The benchmark's table and its budgets, as text."""

from dataclasses import dataclass

from .load import Result
from .weight import Asset

#: Goals from the project's performance issue (checked here, never by timed unit tests).
RATIO_BUDGETS = {
    "GET / (logged in)": 0.40,
    "POST /cart/items (htmx)": 0.30,
    "GET /orders (htmx)": 0.25,
}
P99_BUDGET_MS = 30.0
QUERY_BUDGETS = {
    "GET / (logged in)": 4,
    "GET /cart (htmx)": 3,
    "GET /orders (htmx)": 3,
    # A modal opened as a whole page also renders the shop page around it (grid, badge).
    "GET /cart (page)": 4,
    "GET /orders (page)": 4,
    "POST /stripe/webhook (dup)": 1,
}
#: Round trips to PostgreSQL per request (counted on the wire, `bench/wire.py`).
ROUND_TRIP_BUDGETS = {
    "GET / (logged in)": 2,
    "POST /cart/items (htmx)": 3,
}
ASSET_BUDGET_BYTES = 60 * 1024


@dataclass(frozen=True)
class Check:
    """One budget: met or not, and the figures that say so."""

    met: bool
    text: str

    def line(self) -> str:
        """`ok` or `MISS`, then the figures."""
        return f"  {'ok  ' if self.met else 'MISS'}  {self.text}"


def table(
    hello: Result,
    results: list[Result],
    queries: dict[str, list[int]],
    trips: dict[str, int] | None = None,
) -> str:
    """endpoint, requests/s, p50, p99, errors, ratio to hello, round trips (PostgreSQL) and
    SQL per request."""
    base = hello.median("rps")
    trips = trips or {}
    header = (
        f"{'endpoint':<28} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'× hello':>7} {'RT/req':>6}  SQL/req (10 lines·50 orders | 1·1 | 40·200)"
    )
    rows = [header, "-" * len(header)]
    for result in [hello, *results]:
        name = result.endpoint.name
        counts = queries.get(name)
        sql = f"{counts[0]:>2} | {counts[1]} | {counts[2]}" if counts else " -"
        rows.append(
            f"{name:<28} {result.median('rps'):>8.0f} {result.median('p50_ms'):>7.1f} "
            f"{result.median('p99_ms'):>7.1f} {result.errors:>6} "
            f"{result.median('rps') / base:>7.2f} {trips.get(name, '-'):>6}  {sql}"
        )
    extra = [name for name in queries if name not in {r.endpoint.name for r in results}]
    for name in extra:
        counts = queries[name]
        rows.append(
            f"{name:<28} {'(not loaded)':>39} {trips.get(name, '-'):>6}  "
            f"{counts[0]:>2} | {counts[1]} | {counts[2]}"
        )
    return "\n".join(rows)


def checks(
    hello: Result,
    results: list[Result],
    queries: dict[str, list[int]],
    assets: list[Asset],
    trips: dict[str, int] | None = None,
) -> list[Check]:
    """Every budget of the performance issue, met or missed, with its figures."""
    base = hello.median("rps")
    by_name = {result.endpoint.name: result for result in results}
    found = []
    for name, budget in RATIO_BUDGETS.items():
        ratio = by_name[name].median("rps") / base
        short = "" if ratio >= budget else f" (short by {budget - ratio:.2f})"
        found.append(Check(ratio >= budget, f"{name} ≥ {budget:.2f} × hello: {ratio:.2f}{short}"))
    worst = max(results, key=lambda r: r.median("p99_ms"))
    slow = [r.endpoint.name for r in results if r.median("p99_ms") >= P99_BUDGET_MS]
    found.append(
        Check(
            not slow,
            f"p99 < {P99_BUDGET_MS:.0f} ms on every endpoint: worst "
            f"{worst.median('p99_ms'):.1f} ms ({worst.endpoint.name})"
            + (f"; over: {', '.join(slow)}" if slow else ""),
        )
    )
    over = [
        f"{name} {max(queries[name])} > {budget}"
        for name, budget in QUERY_BUDGETS.items()
        if max(queries[name]) > budget
    ]
    varying = [name for name, counts in queries.items() if len(set(counts)) > 1]
    found.append(
        Check(
            not over and not varying,
            "SQL/req within budget (/ ≤ 4, /cart and /orders ≤ 3 or 4 as whole pages, webhook "
            "duplicate 1) and the same for 1, 10 and 40 cart lines and 1, 50 and 200 orders"
            + (f"; over: {', '.join(over)}" if over else "")
            + (f"; varies: {', '.join(varying)}" if varying else ""),
        )
    )
    if trips:
        over_trips = [
            f"{name} {trips[name]} > {budget}"
            for name, budget in ROUND_TRIP_BUDGETS.items()
            if trips[name] > budget
        ]
        found.append(
            Check(
                not over_trips,
                "round trips to PostgreSQL within budget (/ ≤ 2, the add ≤ 3): "
                + ", ".join(f"{name} {trips[name]}" for name in ROUND_TRIP_BUDGETS)
                + (f"; over: {', '.join(over_trips)}" if over_trips else ""),
            )
        )
    total = sum(asset.wire_bytes for asset in assets)
    found.append(
        Check(
            total <= ASSET_BUDGET_BYTES,
            f"first page load: CSS + JS {total / 1024:.1f} KB gzipped ≤ "
            f"{ASSET_BUDGET_BYTES // 1024} KB",
        )
    )
    errors = sum(result.errors for result in [hello, *results])
    found.append(Check(errors == 0, f"no errors under load: {errors}"))
    return found


def assets_block(html_bytes: int, assets: list[Asset]) -> str:
    """The first page load, file by file."""
    lines = [f"  page HTML {html_bytes / 1024:.1f} KB"]
    for asset in assets:
        lines.append(
            f"  {asset.url}  {asset.wire_bytes / 1024:.1f} KB {asset.encoding}, "
            f"Cache-Control: {asset.cache_control or '(none)'}"
        )
    return "\n".join(lines)
