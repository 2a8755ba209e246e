"""What a worker keeps between requests: rendered fragments, each with its version.

Three things are requested far more often than they change: the shop page's grid, the rows
of My Orders and the lines of a cart. Each is kept here under a *slot* (what it is: the
page for this kind of visitor and search, one customer's order list, one cart line) with
the *version* it was rendered from: the very data the request has just read. `kept`
renders again whenever the version differs, so nothing kept is ever stale and nothing
needs telling when data changes, in this worker or any other.

- **Bounded**: at most `MAX_SLOTS` slots per process, the least recently used dropped
  first (searches and customers are unbounded).
- **Per app**: slots are filed under the app that kept them (tests build many apps in
  one process; one app's settings must never show in another's pages).
- **Off while templates reload** (development): every request renders afresh.

What a fragment must not carry (a CSRF token shared between sessions, the badge) is either
part of its version or drawn as a marker and filled in per request (`shop.rendered`).
"""

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")

#: Slots kept per process: grids (~18 kB), customers' order lists (~1 kB a row), cart
#: lines (~1 kB).
MAX_SLOTS = 2048
#: Where an app keeps the number its slots are filed under.
EXTENSION = "shop.fragments"

_held: OrderedDict[tuple[int, Hashable], tuple[Hashable, object]] = OrderedDict()
_lock = threading.Lock()
_app_numbers = itertools.count(1)


def keeping() -> bool:
    """Whether this app keeps fragments (not while templates reload as they are edited)."""
    return not current_app.jinja_env.auto_reload


def _key(slot: Hashable) -> tuple[int, Hashable]:
    """`slot` filed under the current app."""
    number = current_app.extensions.get(EXTENSION)
    if number is None:
        number = current_app.extensions.setdefault(EXTENSION, next(_app_numbers))
    return number, slot


def kept(slot: Hashable, version: Hashable, render: Callable[[], T]) -> T:
    """What `render()` gives for `version` of `slot`: the kept copy if it was rendered for
    this very version, else rendered now (and kept)."""
    if not keeping():
        return render()
    key = _key(slot)
    with _lock:
        held = _held.get(key)
        if held is not None and held[0] == version:
            _held.move_to_end(key)
            return held[1]  # type: ignore[return-value]
    value = render()
    _put(key, version, value)
    return value


def recall(slot: Hashable) -> tuple[Hashable, object] | None:
    """(version, value) kept for `slot`, whatever the version; None if nothing is."""
    if not keeping():
        return None
    key = _key(slot)
    with _lock:
        held = _held.get(key)
        if held is not None:
            _held.move_to_end(key)
        return held


def keep(slot: Hashable, version: Hashable, value: object) -> None:
    """Keep `value` for `version` of `slot` (replacing what was kept)."""
    if keeping():
        _put(_key(slot), version, value)


def _put(key: tuple[int, Hashable], version: Hashable, value: object) -> None:
    with _lock:
        _held[key] = (version, value)
        _held.move_to_end(key)
        while len(_held) > MAX_SLOTS:
            _held.popitem(last=False)


def forget_all() -> None:
    """Drop everything kept, for every app (tests of what a cold worker does)."""
    with _lock:
        _held.clear()
