"""The reconciliation at the end of a rehearsal, from the sources of truth: the shop's
PostgreSQL tables (orders, their items, products, the outbox), the emulator's tables (what
"Stripe" charged), the SMTP sink (what customers received) and Redis (the rate-limit
counters), plus what the load client saw."""

import re
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import psycopg
import redis
import requests

from .stack import Mail

PAID_STATES = ("paid", "partially_refunded", "refunded")
RECEIPT_SUBJECT = re.compile(r"receipt for order #(\d+)")


@dataclass
class Check:
    """One reconciliation: true or not, with the figures that say so."""

    ok: bool
    text: str

    def line(self) -> str:
        """`ok` or `FAIL`, then the figures."""
        return f"  {'ok  ' if self.ok else 'FAIL'}  {self.text}"


@dataclass
class Figures:
    """The last line's numbers."""

    purchases: int = 0
    lost: int = 0
    doubled: int = 0
    oversold: int = 0
    server_errors: int = 0
    checks: list[Check] = field(default_factory=list)

    def add(self, ok: bool, text: str) -> None:
        """Record one check."""
        self.checks.append(Check(ok, text))

    @property
    def all_true(self) -> bool:
        """Whether every check holds."""
        return all(check.ok for check in self.checks)


def _rows(conn, sql: str, *params) -> list[tuple]:
    """Rows of a query."""
    return conn.execute(sql, params).fetchall()


def payments(conn, figures: Figures) -> None:
    """Every paid emulator session <-> exactly one paid order; nobody charged twice."""
    sessions = _rows(
        conn,
        "SELECT id, client_reference_id, metadata::json->>'order_id' FROM "
        "emulator_checkout_sessions WHERE payment_status = 'paid'",
    )
    orders = {
        session_id: (order_id, user_id)
        for order_id, user_id, session_id in _rows(
            conn,
            "SELECT id, user_id, stripe_session_id FROM orders WHERE status = ANY(%s)",
            list(PAID_STATES),
        )
    }
    lost = _lost(conn)
    paid_ids = {sid for sid, _, _ in sessions}
    unbacked = [order for sid, (order, _) in orders.items() if sid not in paid_ids]
    by_order = Counter(order_id for _, _, order_id in sessions)
    by_customer = Counter(customer for _, customer, _ in sessions)
    charges = _rows(
        conn,
        "SELECT session_id, count(*) FROM emulator_payments WHERE status = 'succeeded' "
        "GROUP BY session_id HAVING count(*) > 1",
    )
    twice_order = [order for order, n in by_order.items() if n > 1]
    twice_customer = [customer for customer, n in by_customer.items() if n > 1]
    figures.purchases = len(orders)
    figures.lost = len(lost)
    figures.doubled += len(twice_order) + len(twice_customer) + len(charges)
    figures.add(
        not lost and not unbacked,
        f"every paid emulator session has a paid order and every paid order a paid session: "
        f"{len(sessions)} paid sessions, {len(orders)} paid orders, {len(lost)} lost"
        + (f" {lost[:3]}" if lost else "")
        + f", {len(unbacked)} paid without a payment",
    )
    figures.add(
        not twice_order and not twice_customer and not charges,
        f"no double charge: {len(twice_order)} orders with two paid sessions, "
        f"{len(twice_customer)} customers charged twice (each simulated customer checks out "
        f"once), {len(charges)} sessions with two charges",
    )


def receipts(conn, mail: list[Mail], figures: Figures) -> None:
    """Every paid order <-> exactly one receipt in the outbox, sent, and received once
    (one Message-ID) by the SMTP sink."""
    paid = {
        order_id
        for (order_id,) in _rows(
            conn, "SELECT id FROM orders WHERE status = ANY(%s)", list(PAID_STATES)
        )
    }
    outbox = defaultdict(list)
    for order_id, message_id, status in _rows(
        conn, "SELECT order_id, message_id, status FROM outbox WHERE kind = 'receipt'"
    ):
        outbox[order_id].append((message_id, status))
    unsent = _rows(conn, "SELECT kind, status, count(*) FROM outbox WHERE status <> 'sent' "
                   "GROUP BY 1, 2")  # fmt: skip
    received = defaultdict(list)
    for message in mail:
        match = RECEIPT_SUBJECT.search(message.subject)
        if match:
            received[int(match.group(1))].append(message.message_id)
    missing = [o for o in paid if len(outbox.get(o, [])) != 1 or len(set(received[o])) != 1]
    wrong_id = [
        o for o in paid if o not in missing and outbox[o][0][0] != received[o][0]
    ]  # fmt: skip
    extra = [o for o in set(outbox) | set(received) if o not in paid]
    two = [o for o in paid if len(set(received[o])) > 1 or len(outbox.get(o, [])) > 1]
    resent = sum(len(ids) - len(set(ids)) for ids in received.values())
    figures.doubled += len(two)
    figures.add(
        not missing and not wrong_id and not extra and not unsent,
        f"every paid order has exactly one receipt, sent and received: {len(paid)} paid, "
        f"{sum(len(v) for v in outbox.values())} receipts in the outbox, "
        f"{len(received)} orders' receipts received ({len(missing)} without exactly one, "
        f"{len(two)} with two different ones, {len(extra)} for unpaid orders); outbox not "
        f"sent: {unsent or 'none'}"
        + (f"; {resent} sent again after the worker was killed, same Message-ID" if resent else "")
        + (
            f"; Message-ID differs for {len(wrong_id)}, e.g. "
            f"{_example(wrong_id[0], outbox, received)}"
            if wrong_id
            else ""
        ),
    )


def _example(order_id: int, outbox: dict, received: dict) -> str:
    """An order's receipt Message-ID in the outbox and as received."""
    return f"order {order_id}: {outbox[order_id][0][0]!r} vs {received[order_id][0]!r}"


def stock(conn, start: dict[str, int], figures: Figures) -> list[tuple]:
    """Per product: on hand + sold = start, reserved = what pending orders hold, never
    sold more than it had (unless a flagged late payment explains it). The table rows."""
    rows = _rows(
        conn,
        """
        SELECT p.sku, p.stock, p.reserved,
               coalesce(sum(i.quantity) FILTER (WHERE o.stock_hold IN ('sold', 'sold_late')), 0),
               coalesce(sum(i.quantity) FILTER (WHERE o.stock_hold = 'held'), 0),
               coalesce(sum(i.quantity) FILTER (WHERE o.stock_hold = 'sold_late'), 0)
        FROM products p
        LEFT JOIN order_items i ON i.product_id = p.id
        LEFT JOIN orders o ON o.id = i.order_id
        GROUP BY p.sku, p.stock, p.reserved ORDER BY p.sku
        """,
    )
    unbalanced, oversold, table = [], 0, []
    for sku, on_hand, reserved, sold, held, late in rows:
        begun = start[sku]
        # on hand = start - sold, so available (on hand - reserved) + reserved + sold = start
        if on_hand + sold != begun or reserved != held:
            unbalanced.append(sku)
        oversold += max(0, sold - late - begun)
        table.append((sku, begun, on_hand - reserved, reserved, sold, late))
    held_not_pending = _rows(
        conn, "SELECT count(*) FROM orders WHERE stock_hold = 'held' AND status <> 'pending'"
    )[0][0]
    negative = [sku for sku, _, left, *_ in table if left < 0]
    figures.oversold = oversold
    figures.add(
        not unbalanced and not held_not_pending,
        "stock conserved for every product (available + reserved + sold = start; reserved = "
        f"units held by pending orders): {len(rows) - len(unbalanced)} of {len(rows)} balance"
        + (f", off: {', '.join(unbalanced)}" if unbalanced else "")
        + f"; {held_not_pending} holds on orders no longer pending",
    )
    figures.add(
        not oversold,
        f"no overselling: {oversold} units sold beyond stock without a flagged late payment; "
        f"{sum(t[5] for t in table)} units sold late (flagged); below zero: {negative or 'none'}",
    )
    return table


def _stuck(conn) -> tuple[int, list[int]]:
    """(pending orders, those whose session at the emulator is no longer open, or that have
    had none for longer than the worker's duty leaves a claim a crash left behind)."""
    rows = _rows(
        conn,
        """
        SELECT o.id, o.stripe_session_id, s.status, s.expires_at <= extract(epoch FROM now()),
               o.created_at < (now() AT TIME ZONE 'utc') - interval '3 minutes'
        FROM orders o LEFT JOIN emulator_checkout_sessions s ON s.id = o.stripe_session_id
        WHERE o.status = 'pending'
        """,
    )
    return len(rows), [
        order
        for order, session, status, overdue, old in rows
        if (session is None and old) or (session is not None and (status != "open" or overdue))
    ]


def _lost(conn) -> list[str]:
    """Paid emulator sessions without a paid order."""
    return [
        session_id
        for (session_id,) in _rows(
            conn,
            "SELECT s.id FROM emulator_checkout_sessions s WHERE s.payment_status = 'paid' "
            "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.stripe_session_id = s.id "
            "AND o.status = ANY(%s))",
            list(PAID_STATES),
        )
    ]


def unsettled(conn) -> str:
    """What a reconcile would have to fix: lost payments and stuck pending orders."""
    _, stuck = _stuck(conn)
    return (
        f"{len(_lost(conn))} paid sessions without a paid order, {len(stuck)} pending orders "
        "past their session's expiry"
    )


def pending(conn, figures: Figures) -> None:
    """No pending order whose Checkout Session is no longer open at the emulator."""
    count, stuck = _stuck(conn)
    figures.add(
        not stuck,
        f"no pending order past its session's expiry: {count} pending (sessions still "
        f"open, or being claimed), {len(stuck)} whose session expired, or without one for "
        "over 3 minutes" + (f" {stuck[:5]}" if stuck else ""),
    )


def webhooks(conn, figures: Figures) -> None:
    """Every webhook delivery the emulator made was accepted."""
    answers = dict(_rows(conn, "SELECT status_code, count(*) FROM emulator_deliveries GROUP BY 1"))
    refused = {status: n for status, n in answers.items() if not 200 <= status < 300}
    figures.add(
        not refused,
        f"every webhook delivery accepted: {sum(answers.values())} deliveries, refused: "
        f"{refused or 'none'}",
    )


def server_errors(conn, client_5xx: int, logged_5xx: int, figures: Figures) -> None:
    """No 5xx, as customers saw them, as the dynos logged them, or to a webhook delivery."""
    deliveries = _rows(conn, "SELECT count(*) FROM emulator_deliveries WHERE status_code >= 500")
    figures.server_errors = client_5xx + deliveries[0][0]
    figures.add(
        figures.server_errors == 0 and logged_5xx == 0,
        f"no 5xx: {client_5xx} seen by customers, {logged_5xx} in the dynos' request logs, "
        f"{deliveries[0][0]} webhook deliveries answered 5xx",
    )


def client_errors(causes: list[list], figures: Figures) -> dict[str, int]:
    """4xx only for the expected causes (sold out, declined, a pay retried after the
    fault); the counts by cause."""
    expected = Counter()
    unexpected = Counter()
    for kind, step, detail, count in causes:
        if kind == "4xx":
            expected[f"{detail} ({step})"] += count
        elif kind == "unexpected 4xx":
            unexpected[f"{detail} ({step})"] += count
    figures.add(
        not unexpected,
        "4xx only for expected causes: "
        + (", ".join(f"{n} {cause}" for cause, n in expected.most_common()) or "none")
        + (f"; UNEXPECTED: {dict(unexpected)}" if unexpected else ""),
    )
    return dict(expected)


def shared_limits(bases: list[str], public_host: str, redis_url: str, figures: Figures) -> None:
    """The login limit is counted once across both dynos: 10 failed logins for one
    account, alternating dynos, then the 11th and 12th (one on each) are refused; and the
    counters are in the shared Redis."""
    email = f"limit-probe-{uuid.uuid4().hex[:8]}@example.com"
    answers = []
    for attempt in range(12):
        answers.append(_failed_login(bases[attempt % 2], bases[(attempt + 1) % 2], public_host,
                                     email))  # fmt: skip
    keys = redis.Redis.from_url(redis_url).keys("*")
    limiter_keys = [k for k in keys if b"shop" in k]
    ok = answers[:10] == [422] * 10 and answers[10:] == [429, 429]
    figures.add(
        ok and bool(limiter_keys),
        "rate limits shared by both dynos: 10 failed logins for one account, alternating "
        f"dynos, answered {answers[:10].count(422)}×422, then {answers[10:]} on dyno 1 and 2; "
        f"{len(limiter_keys)} limiter keys in Redis",
    )


def _failed_login(form_base: str, post_base: str, host: str, email: str) -> int:
    """A stranger's wrong password: the form from one dyno, the post to the other."""
    http = requests.Session()
    headers = {"Host": host, "X-Forwarded-Proto": "https", "Referer": f"https://{host}/login"}
    form = http.get(form_base + "/login", headers=headers, timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    answer = http.post(
        post_base + "/login",
        data={"email": email, "password": "not the password", "csrf_token": token},
        headers={**headers, "Cookie": cookie},
        allow_redirects=False,
        timeout=30,
    )
    return answer.status_code


def purchases_per_minute(conn, since: float) -> list[int]:
    """Orders paid in each minute from the load's start (paid_at, UTC)."""
    rows = _rows(
        conn,
        "SELECT floor((extract(epoch FROM paid_at) - %s) / 60)::int AS minute, count(*) "
        "FROM orders WHERE paid_at IS NOT NULL GROUP BY 1 ORDER BY 1",
        since,
    )
    counts = dict(rows)
    last = max(counts, default=-1)
    return [counts.get(minute, 0) for minute in range(0, last + 1)]


def connect(url: str):
    """A connection for the checks."""
    return psycopg.connect(url, autocommit=True)


def sale_code(conn, code: str, uses: int, figures: Figures) -> dict[str, int]:
    """The limited code: paid orders that used it, and Stripe's own count, both within its
    uses; what it took off."""
    paid = "('paid', 'partially_refunded', 'refunded')"
    orders, discount = conn.execute(
        f"SELECT count(*), coalesce(sum(discount_cents), 0) FROM orders "
        f"WHERE promotion_code = %s AND status IN {paid}",
        (code,),
    ).fetchone()
    at_stripe = conn.execute(
        "SELECT coalesce(max(times_redeemed), 0) FROM emulator_promotion_codes WHERE code = %s",
        (code,),
    ).fetchone()[0]
    figures.add(
        orders <= uses and at_stripe <= uses and orders == at_stripe,
        f"the limited code {code} redeemed ≤ {uses} times: {orders} paid orders used it, "
        f"Stripe counted {at_stripe}",
    )
    return {"orders": orders, "at_stripe": at_stripe, "discount_cents": discount}


def replays(counted: dict[str, int], figures: Figures) -> None:
    """Every API request sent again with its idempotency key got the first answer back."""
    same = counted.get("identical", 0)
    other = {k: v for k, v in counted.items() if k != "identical"}
    figures.add(
        same > 0 and not other,
        f"every API replay answered identically: {same} identical"
        + (f"; different: {other}" if other else ""),
    )


def dispute(conn, order_id: int | None, figures: Figures) -> None:
    """The dispute opened mid-run is on its order, and on its timeline."""
    if order_id is None:
        figures.add(False, "a dispute was opened mid-run: no paid order to dispute was found")
        return
    state = conn.execute("SELECT dispute FROM orders WHERE id = %s", (order_id,)).fetchone()[0]
    noted = conn.execute(
        "SELECT count(*) FROM order_events WHERE order_id = %s AND kind LIKE %s",
        (order_id, "%dispute%"),
    ).fetchone()[0]
    figures.add(
        state is not None and noted > 0,
        f"the dispute opened mid-run on order {order_id} is recorded: state {state}, "
        f"{noted} timeline entries",
    )


def slow_outside_fault(windows: list[list], fault_at: float | None, figures: Figures) -> None:
    """Requests over 1 s are at most 1 % of those outside the minute of the fault (the
    10-second windows the load measured, [second, customers, requests, slow])."""

    def in_fault(second: int) -> bool:
        return fault_at is not None and fault_at <= second < fault_at + 70  # window ends

    counted = [w for w in windows if not in_fault(w[0])]
    total, slow = sum(w[2] for w in counted), sum(w[3] for w in counted)
    share = slow / total if total else 0.0
    figures.add(
        total > 0 and share <= 0.01,
        f"requests over 1 s outside the minute of the fault ≤ 1 %: {share:.2%} ({slow} of {total})",
    )
