"""Everything Stripe-facing; the only package that imports `stripe` or the emulator.

The rest of the shop speaks to it in its own terms (`types`): it opens, reads and closes
Checkout Sessions through `checkout`, refunds through `refunds`, links admins to them
through `links`, and receives
typed events through the handlers it registers with `on`. `gateway` is the one door to
the SDK, `translate` the one place that knows Stripe's names, `webhooks` verifies and
dispatches events, and `emulator` is the built-in Stripe used without a key.
"""

from flask import Flask

from . import installation, webhooks
from .checkout import close_session, get_session, open_session
from .customers import SavedCard, delete_customer, make_customer, remove_card, saved_cards
from .gateway import PaymentsError, PaymentsRejected, PaymentsUnavailable, SessionNotFound
from .links import StripeLinks, dashboard_link, order_links
from .promotions import (
    CreatedPromotion,
    PromotionCode,
    PromotionSpec,
    create_promotion,
    deactivate_promotion,
    promotion_code,
    tax_rate_id,
)
from .refunds import refund, refunds_of
from .types import (
    Address,
    Charge,
    ChargeEvent,
    CheckoutEvent,
    CheckoutLine,
    CheckoutRequest,
    CheckoutSession,
    Dispute,
    DisputeEvent,
    PaymentEvent,
    Refund,
    RefundEvent,
    ShippingChoice,
)
from .webhooks import on

__all__ = [
    "Address",
    "Charge",
    "ChargeEvent",
    "CreatedPromotion",
    "PromotionCode",
    "PromotionSpec",
    "CheckoutEvent",
    "CheckoutLine",
    "CheckoutRequest",
    "CheckoutSession",
    "Dispute",
    "DisputeEvent",
    "PaymentEvent",
    "PaymentsError",
    "PaymentsRejected",
    "PaymentsUnavailable",
    "Refund",
    "RefundEvent",
    "SavedCard",
    "SessionNotFound",
    "ShippingChoice",
    "StripeLinks",
    "close_session",
    "create_promotion",
    "deactivate_promotion",
    "delete_customer",
    "make_customer",
    "promotion_code",
    "tax_rate_id",
    "dashboard_link",
    "get_session",
    "init_app",
    "on",
    "open_session",
    "order_links",
    "refund",
    "refunds_of",
    "remove_card",
    "saved_cards",
]


def init_app(app: Flask) -> None:
    """The webhook route, an empty handler table, the installation's webhook secret where it
    generates one, `flask payments reconcile`, `flask emulator ...` (which refuses with a
    real key), and in emulator mode the emulator's API and hosted page."""
    from .emulator.cli import emulator_cli
    from .reconcile import payments_cli
    from .routes import bp

    webhooks.init_app(app)
    installation.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(emulator_cli)
    app.cli.add_command(payments_cli)
    if app.config["STRIPE_EMULATOR"]:  # never reachable when a real key is set
        from .emulator.routes import bp as emulator_bp

        app.register_blueprint(emulator_bp)
