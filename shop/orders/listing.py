"""My Orders' list, with each row's HTML rendered once per version of what it shows.

A customer's rows hardly ever change (a status, a refund, a shipment), yet the list is
requested again and again (the modal opens; it polls every 3 s while an order is pending),
and rendering 50 rows costs many times more than the rest of the request. So each worker
process keeps (in `shop.fragments`), per customer, the lines of each order and the HTML of
each row, keyed by everything the row shows: the order's shown columns as the database
has them now (read on every request, in the list's one statement), whether it can still
be resumed at this moment, and the script root its links start with. A row whose order
changed in any way gets a new key and is rendered afresh; nothing needs telling when an
order changes, in this process or any other. Only an order's lines are kept by its
checkout key alone: they are written with the order and never change.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import request
from markupsafe import Markup

from .. import fragments, languages
from ..models import utcnow
from . import services
from .services import OrderLine, OrderSummary

#: Renders one row: (the order, its lines, whether it can be resumed now) -> HTML.
RowRenderer = Callable[[OrderSummary, tuple[OrderLine, ...], bool], str]


@dataclass(frozen=True)
class Seen:
    """What a worker kept of one customer's list: never changed once made, only replaced."""

    #: Each order's lines, by checkout key.
    lines: dict[str, tuple[OrderLine, ...]]
    #: Each row's HTML, by its key (`_row_key`).
    rows: dict[tuple, str]


@dataclass(frozen=True)
class Listing:
    """My Orders' list for one request."""

    #: Every row, newest first (empty: no orders).
    html: Markup
    #: How many orders it shows.
    count: int
    #: Some order waits for Stripe: the modal keeps polling.
    any_pending: bool


def my_orders(user_id: int, render_row: RowRenderer) -> Listing:
    """The user's list, rendering with `render_row` only the rows not rendered as they are."""
    before = _recall(user_id)
    summaries = services.list_summaries(user_id, known=before.lines.keys())
    now = utcnow()
    # Debugging reloads templates as they are edited: render every row then.
    keep = fragments.keeping()
    root = request.script_root
    language = languages.current()  # a row reads in the language it was rendered in
    lines: dict[str, tuple[OrderLine, ...]] = {}
    rows: dict[tuple, str] = {}
    parts = []
    for summary, read in summaries:
        own = before.lines[summary.checkout_key] if read is None else read
        resumable = summary.is_resumable(now)
        key = (summary, resumable, root, language)
        html = before.rows.get(key) if keep else None
        if html is None:
            html = str(render_row(summary.shown(), own, resumable))
        lines[summary.checkout_key] = own
        rows[key] = html
        parts.append(html)
    if keep:
        # Only this request's rows: rows of orders gone or changed since are dropped.
        _remember(user_id, Seen(lines, rows))
    return Listing(
        Markup("".join(parts)),  # each part is the template's own (escaped) output
        len(summaries),
        services.any_pending(summary for summary, _ in summaries),
    )


def _recall(user_id: int) -> Seen:
    """What this worker kept of the user's list (nothing: an empty `Seen`)."""
    held = fragments.recall(("my-orders", user_id))
    return held[1] if held is not None else Seen({}, {})  # type: ignore[return-value]


def _remember(user_id: int, seen: Seen) -> None:
    """Keep `seen` for the user (in `shop.fragments`, which bounds how many are kept)."""
    fragments.keep(("my-orders", user_id), None, seen)


def forget_all() -> None:
    """Drop everything kept (for tests that count what a cold worker does)."""
    fragments.forget_all()
