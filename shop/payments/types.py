"""What the shop hands to payments and gets back: shop-level requests, views and events.

Nothing here knows Stripe's parameter names or object shapes; `shop.payments.translate`
translates both ways, so the rest of the shop never reads or builds a Stripe dict.
"""

from dataclasses import dataclass
from datetime import datetime

#: Checkout's payment_status values meaning the money is taken.
PAID_STATUSES = frozenset({"paid", "no_payment_required"})


@dataclass(frozen=True)
class CheckoutLine:
    """One line to pay for: a name, a unit price in minor units and a quantity."""

    name: str
    unit_amount: int
    quantity: int


@dataclass(frozen=True)
class ShippingChoice:
    """One way to ship the customer may pick on the payment page, priced for this order."""

    key: str  # the shop's name for the rate ("standard"), kept in its metadata
    label: str  # what the customer reads: "Standard (3–5 business days)"
    amount: int
    min_days: int
    max_days: int


@dataclass(frozen=True)
class Address:
    """A postal address as Stripe collected it; `country` is ISO 3166-1 alpha-2."""

    name: str
    line1: str
    line2: str
    city: str
    postal_code: str
    state: str
    country: str


@dataclass(frozen=True)
class CheckoutRequest:
    """A hosted payment page for one order.

    `order_id` and `customer_id` travel with the session (metadata and client reference),
    so a payment can be tied back to its order even if the session id was never recorded.
    """

    order_id: int
    customer_id: int
    customer_email: str
    currency: str
    lines: tuple[CheckoutLine, ...]
    success_url: str  # contains {CHECKOUT_SESSION_ID}
    cancel_url: str
    expires_at: datetime
    #: Countries an address may be in (none: no address is asked for).
    ship_to: tuple[str, ...] = ()
    #: The ways to ship offered, cheapest first (none: shipping is not charged).
    shipping: tuple[ShippingChoice, ...] = ()
    #: Stripe's id of the code from the cart (None: a code may be typed on Stripe's page).
    promotion_code_id: str | None = None
    #: The installation's Tax Rate on every line (None: no tax line), or Stripe Tax.
    tax_rate_id: str | None = None
    automatic_tax: bool = False
    #: The account's Stripe Customer: its saved cards are offered, a new one may be saved.
    stripe_customer_id: str | None = None
    #: The language of Stripe's page (`en`, `de`; None: Stripe's own choice, "auto").
    locale: str | None = None


@dataclass(frozen=True)
class CheckoutSession:
    """A Checkout Session as the shop needs to see it."""

    id: str
    url: str | None
    status: str  # open | complete | expired
    payment_status: str  # unpaid | paid | no_payment_required
    amount_total: int | None
    currency: str | None
    payment_intent_id: str | None
    expires_at: datetime | None
    #: The order and customer the session says it was made for (None if absent or garbled).
    order_id: int | None
    customer_id: str | None
    #: Where to ship, once the customer gave it (a completed session that asked for it).
    shipping_address: Address | None = None
    #: What shipping cost, and the id of the rate picked, once the customer chose one.
    shipping_amount: int | None = None
    shipping_rate_id: str | None = None
    #: The ids Stripe gave the offered rates, in the order they were asked for.
    shipping_rate_ids: tuple[str, ...] = ()
    #: What Stripe charged, line by line summed: the items at list price, what the code
    #: took off, the tax on the lines; and Stripe's id of the code used.
    amount_subtotal: int | None = None
    amount_discount: int = 0
    amount_tax: int = 0
    promotion_code_id: str | None = None

    @property
    def is_open(self) -> bool:
        """Can still be paid."""
        return self.status == "open"

    @property
    def is_paid(self) -> bool:
        """The money is taken (cards at once; delayed methods once they succeed)."""
        return self.payment_status in PAID_STATUSES


@dataclass(frozen=True)
class PaymentEvent:
    """An event from Stripe: its id and type, and how it reached the shop.

    `via` is "webhook" for a delivery to /stripe/webhook and "reconcile" for one that
    `flask payments reconcile` fetched from Stripe's event list.
    """

    id: str
    type: str
    via: str


@dataclass(frozen=True)
class CheckoutEvent(PaymentEvent):
    """`checkout.session.*`: a session completed, was paid later, failed or expired."""

    session: CheckoutSession


@dataclass(frozen=True)
class Refund:
    """A refund as Stripe has it: made by the shop or anywhere else (the Dashboard)."""

    id: str
    amount: int
    currency: str
    status: str  # pending | requires_action | succeeded | failed | canceled
    reason: str  # duplicate | fraudulent | requested_by_customer | "" (none given)
    payment_intent_id: str | None
    failure_reason: str | None
    #: The shop's own refund key, when the shop asked for it (metadata `refund_key`).
    shop_key: str | None


@dataclass(frozen=True)
class Charge:
    """The charge behind a PaymentIntent, with Stripe's running total of refunds."""

    id: str
    payment_intent_id: str | None
    amount: int
    amount_refunded: int
    refunded: bool


@dataclass(frozen=True)
class RefundEvent(PaymentEvent):
    """`refund.created`, `refund.updated`, `refund.failed`."""

    refund: Refund


@dataclass(frozen=True)
class ChargeEvent(PaymentEvent):
    """`charge.refunded` (and other `charge.*` events)."""

    charge: Charge


#: Dispute statuses that are final: the bank has decided (or the warning was closed).
DISPUTE_CLOSED = frozenset({"won", "lost", "warning_closed", "prevented"})


@dataclass(frozen=True)
class Dispute:
    """A dispute (chargeback) of a charge, as Stripe has it."""

    id: str
    charge_id: str | None
    payment_intent_id: str | None
    amount: int
    currency: str
    reason: str  # fraudulent | product_not_received | ... (Stripe's codes)
    status: str  # warning_needs_response | needs_response | under_review | won | lost | ...
    evidence_due_by: datetime | None

    @property
    def is_closed(self) -> bool:
        """The bank has decided: the status will not change again."""
        return self.status in DISPUTE_CLOSED


@dataclass(frozen=True)
class DisputeEvent(PaymentEvent):
    """`charge.dispute.created`, `charge.dispute.updated`, `charge.dispute.closed`."""

    dispute: Dispute
