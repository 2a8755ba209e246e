"""The currencies the shop sells in, and the one a request is priced in.

`SHOP_CURRENCIES` lists them (the first is a new visitor's). Each product carries its own
price in each (`catalog.models.ProductPrice`), as Stripe's `currency_options` do: nothing
converts at request time. A customer's choice lives in the session and, once signed in,
on the account (`User.currency`), which wins: it follows them to every device.
"""

import re

from flask import current_app, g, has_request_context, session
from flask_login import current_user

_CODE = re.compile(r"[a-z]{3}")
#: The session key holding a visitor's (and a customer's) choice.
SESSION_KEY = "currency"


def parse(raw: str) -> tuple[str, ...]:
    """`usd,eur` -> ("usd", "eur"); ValueError naming the bad entry."""
    found: list[str] = []
    for entry in raw.split(","):
        code = entry.strip().lower()
        if not _CODE.fullmatch(code):
            raise ValueError(f"{entry.strip()!r} is not a three-letter currency code like eur")
        if code in found:
            raise ValueError(f"{code} is listed twice")
        found.append(code)
    if not found:
        raise ValueError("list at least one currency, like usd,eur")
    return tuple(found)


def offered() -> tuple[str, ...]:
    """The currencies customers can choose, the default first."""
    return current_app.config["SHOP_CURRENCIES"]


def default() -> str:
    """A new visitor's currency."""
    return offered()[0]


def chosen(raw: object) -> str | None:
    """The offered currency `raw` names, whatever its case; None for anything else."""
    if not isinstance(raw, str) or len(raw) > 8:
        return None
    code = raw.strip().lower()
    return code if code in offered() else None


def current() -> str:
    """The currency this request is priced in: the account's, else the session's, else the
    default; a choice no longer offered (the setting changed) falls back the same way."""
    if not has_request_context():
        return default()
    found = g.get("currency")
    if found is None:
        account = getattr(current_user, "currency", None) if current_user else None
        found = chosen(account) or chosen(session.get(SESSION_KEY)) or default()
        g.currency = found
    return found


def remember(code: str) -> None:
    """Price this visitor's next requests in `code` (an offered currency)."""
    session[SESSION_KEY] = code
    g.currency = code
