"""Pages rendered once for what they show, then served with the per-request parts filled in.

A page such as the catalogue is the same HTML for every customer as long as the products
it shows are the same: only the CSRF token and the cart badge differ per request. So the
view reads what the page shows (one statement), and renders the template only when that
differs from what this process rendered last time for the same slot (page, kind of
visitor, search...). The per-request parts are rendered as markers and put in afterwards
by plain string replacement.

- **Never stale**: the version compared is the very data the HTML was rendered from, read
  on every request, so a seed, an admin's edit or a checkout holding the last unit shows
  at once, in every worker (each keeps its own copy), with no invalidation to forget.
- **Never shared wrongly**: a slot names everything else the HTML depends on (signed in
  or not, admin or not, the search, htmx or not, the host); a request with flashed
  messages is rendered in full; and in development (templates reloading) nothing is kept.
- **Markers** are random per process and made of letters and digits only, so escaping
  (HTML, `tojson`) leaves them intact and no product text can contain one by accident.
"""

import secrets
from collections.abc import Callable, Hashable

from flask import session

from . import fragments
from .security import csrf_token

#: What a template renders in place of the CSRF token and of the cart badge's count.
CSRF_MARK = "csrfmark" + secrets.token_hex(16)
COUNT_MARK = "countmark" + secrets.token_hex(16)


def marked_context() -> dict[str, Callable[[], str]]:
    """Template values standing in for the per-request parts (they override the globals)."""
    return {"csrf_token": lambda: CSRF_MARK, "cart_count": lambda: COUNT_MARK}


def cacheable() -> bool:
    """Whether this request may be served from (and fill) the cache."""
    return fragments.keeping() and "_flashes" not in session


def page(slot: Hashable, version: Hashable, render: Callable[[], str]) -> str:
    """The HTML of `slot` for `version`, kept in `shop.fragments`: rendered now if this
    process holds another version (or none), else the copy it holds. `render` must draw
    the per-request parts with `marked_context()`; `fill` puts them in."""
    return fragments.kept(("page", slot), version, render)


def fill(html: str, cart_count: Callable[[], int]) -> str:
    """Put this request's CSRF token and cart count in place of the markers."""
    html = html.replace(CSRF_MARK, csrf_token())
    if COUNT_MARK in html:
        html = html.replace(COUNT_MARK, str(cart_count()))
    return html
