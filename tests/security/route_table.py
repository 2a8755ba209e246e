"""The app's routes read from its url_map, so routes added later are covered automatically."""

import uuid

from werkzeug.routing import Rule
from werkzeug.routing.converters import IntegerConverter, UUIDConverter

from conftest import app_config
from shop import create_app

#: Reachable without logging in, by design (docs/architecture.md, Routes). `/metrics` takes
#: no account either: the bearer of METRICS_TOKEN reads it (404 without one, 401 otherwise).
PUBLIC_PATHS = {
    "/",
    "/products/<sku>",
    "/login",
    "/register",
    "/reset-password",
    "/reset-password/<token>",
    "/healthz",
    "/metrics",
    "/favicon.ico",
    "/static/<path:filename>",
    "/currency",
    "/language",
    # A visitor's cart, kept in their session until they log in (shop/cart/guest.py).
    "/cart",
    "/cart/items",
    "/cart/items/<int:product_id>",
    # A visitor pressing Checkout is sent to log in and back to the cart (test_cart.py).
    "/checkout",
}
#: Public because something other than a browser session authenticates them: Stripe signs
#: the webhook, the emulator's API takes a key, its hosted page plays Stripe's own, and the
#: JSON API takes a bearer token (tests/test_api.py: 401 without one, whatever the cookie).
PUBLIC_PREFIXES = ("/stripe/webhook", "/emulator/", "/api/")
#: Admins only: the admin blueprint's guard answers visitors with a login and customers 404.
ADMIN_PREFIX = "/admin"
#: CSRF-exempt by design: signed by Stripe, called by the stripe SDK with an API key, or
#: the JSON API, which reads no cookie (a browser's session cannot ride on it).
CSRF_EXEMPT_PREFIXES = ("/stripe/webhook", "/emulator/stripe/", "/api/")

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def all_rules() -> list[Rule]:
    """Every rule of a freshly built app (routes do not depend on settings).

    For parametrizing at collection time only: building an app rebinds the shared limiter.
    """
    app = create_app(app_config("sqlite://"))
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)


def is_public(rule: Rule) -> bool:
    """A route anyone may use without an account."""
    return rule.rule in PUBLIC_PATHS or rule.rule.startswith(PUBLIC_PREFIXES)


def is_admin(rule: Rule) -> bool:
    """A route of the admin area."""
    return rule.rule == ADMIN_PREFIX or rule.rule.startswith(ADMIN_PREFIX + "/")


def sample_path(rule: Rule, **values) -> str:
    """A concrete path for `rule`, each parameter filled with a plausible value (or `values`)."""
    for name in rule.arguments - values.keys():
        converter = rule._converters[name]
        if isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, UUIDConverter):
            values[name] = uuid.UUID(int=1)
        else:
            values[name] = "cs_test_1"  # string ids in routes are Stripe session ids so far
    _, path = rule.build(values, append_unknown=False)
    return path


def methods(rule: Rule, wanted=STATE_CHANGING) -> list[str]:
    """The methods among `wanted` that `rule` answers."""
    return sorted(set(rule.methods or ()) & set(wanted))


def cases(wanted=STATE_CHANGING, keep=lambda rule: True) -> list[tuple[str, str]]:
    """(method, rule) pairs to parametrize a table test with."""
    return [
        (method, rule.rule)
        for rule in all_rules()
        if keep(rule)
        for method in methods(rule, wanted)
    ]


def rule_for(app, pattern: str) -> Rule:
    """The rule of `app` whose pattern is `pattern`."""
    return next(rule for rule in app.url_map.iter_rules() if rule.rule == pattern)
