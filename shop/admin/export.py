"""`GET /admin/orders.csv`: every order a filter of the list selects, one row each, streamed.

The rows come from one query read in batches (`yield_per`), so 10,000 orders cost one
query and memory that does not grow with them. Money is in major units with the currency
beside it. A cell a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`,
a tab or a carriage return) is escaped with a leading `'`, as OWASP recommends. Each
export is recorded as an admin action (who, when, which filter).
"""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from ..money import ZERO_DECIMAL
from ..orders.models import Order
from .forms import OrderFilter
from .models import AdminAction
from .services import _conditions

#: The columns, in order (DESIGN: "Disputes and exports").
COLUMNS = (
    "number", "created", "paid", "shipped", "customer", "status", "fulfilment", "currency",
    "subtotal", "discount", "tax", "total", "refunded", "code",
)  # fmt: skip
#: Rows read from the database at a time.
BATCH = 1000
#: What makes a spreadsheet read a cell as a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Excel reads a CSV as UTF-8 only after this mark.
BOM = "\ufeff"


def safe(value: str) -> str:
    """A cell that no spreadsheet runs: a leading formula character is escaped with `'`."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def major(cents: int, currency: str) -> str:
    """Minor units as major units, no symbol: 4700 usd -> "47.00", 500 jpy -> "500"."""
    if currency.lower() in ZERO_DECIMAL:
        return str(cents)
    return f"{cents // 100}.{cents % 100:02d}"


def _when(moment: datetime | None) -> str:
    """A time as ISO 8601 in UTC, or empty."""
    return moment.isoformat(timespec="seconds") if moment else ""


def filename(now: datetime) -> str:
    """The download's name: `orders-2026-12-06.csv`."""
    return f"orders-{now:%Y-%m-%d}.csv"


def record(admin_id: int, wanted: OrderFilter, now: datetime) -> None:
    """Write down that an admin exported the orders a filter selects; commits."""
    detail = urlencode({k: v for k, v in wanted.args().items() if k != "page"})
    db.session.add(AdminAction(admin_id=admin_id, at=now, action="orders_export", detail=detail))
    db.session.commit()


def lines(wanted: OrderFilter, now: datetime) -> Iterator[str]:
    """The CSV, a chunk of lines at a time: the BOM and header, then one row per order,
    newest first (one query, read in batches)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(COLUMNS)
    statement = (
        select(
            Order.id,
            Order.created_at,
            Order.paid_at,
            Order.shipped_at,
            User.email,
            Order.status,
            Order.fulfilment,
            Order.currency,
            Order.subtotal_cents,
            Order.discount_cents,
            Order.tax_cents,
            Order.total_cents,
            Order.promotion_code,
            Order.refunded_cents,
            Order.dispute_lost_cents,
        )  # fmt: skip
        .join(User, User.id == Order.user_id)
        .where(*_conditions(wanted, now))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .execution_options(yield_per=BATCH)
    )
    for n, row in enumerate(db.session.execute(statement), start=1):
        currency = row.currency
        writer.writerow(
            [
                row.id,
                _when(row.created_at),
                _when(row.paid_at),
                _when(row.shipped_at),
                safe(row.email),
                row.status,
                row.fulfilment,
                currency.upper(),
                # What Stripe charged: list prices, the code's discount, the tax (inside
                # the subtotal for an inclusive rate), the total with shipping.
                major(row.subtotal_cents, currency),
                major(row.discount_cents, currency),
                major(row.tax_cents, currency),
                major(row.total_cents, currency),
                major(row.refunded_cents + row.dispute_lost_cents, currency),
                safe(row.promotion_code or ""),
            ]  # fmt: skip
        )
        if n % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
