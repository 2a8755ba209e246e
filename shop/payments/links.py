"""Where an admin can look at a Checkout Session or PaymentIntent: Stripe's dashboard with a
real key, the emulator's hosted page without one. Plain urls: nothing here calls Stripe."""

from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app, url_for

DASHBOARD = "https://dashboard.stripe.com"
#: Dashboard pages by the prefix of a Stripe object id.
PAGES = {"cs_": "checkout/sessions", "pi_": "payments", "dp_": "disputes", "du_": "disputes"}


@dataclass(frozen=True)
class StripeLinks:
    """Links for an order's Checkout Session and PaymentIntent (None where there is none)."""

    session: str | None
    payment_intent: str | None


def order_links(session_id: str | None, payment_intent_id: str | None) -> StripeLinks:
    """Links for an order's Stripe objects, for the app's key (needs a request context)."""
    key = current_app.config["STRIPE_SECRET_KEY"]
    if not key:
        # The emulator has one page per session, which also tells whether it was paid.
        page = url_for("emulator.checkout_page", session_id=session_id) if session_id else None
        return StripeLinks(page, page if payment_intent_id else None)
    return StripeLinks(dashboard_url(session_id, key), dashboard_url(payment_intent_id, key))


def dashboard_url(object_id: str | None, key: str) -> str | None:
    """The Stripe dashboard page of a `cs_...` or `pi_...` object: under /test for test keys
    (`sk_test_`, `rk_test_`), at the root for live ones; None for any other id."""
    page = PAGES.get((object_id or "")[:3])
    if page is None:
        return None
    mode = "/test" if key.startswith(("sk_test_", "rk_test_")) else ""
    return f"{DASHBOARD}{mode}/{page}/{quote(object_id, safe='')}"


def dashboard_link(object_id: str | None) -> str | None:
    """The Stripe Dashboard page of an object (a dispute `dp_...`, a PaymentIntent...) for
    the app's real key; None without one (the emulator has no such page)."""
    key = current_app.config["STRIPE_SECRET_KEY"]
    return dashboard_url(object_id, key) if key else None
