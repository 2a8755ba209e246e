"""The emulated API's endpoints: what each answers, composed from the store and shapes.

Reads take `(s, call, *ids)` and return the body. Writes take `(call, *ids)`, validate
at once, and return the deferred write `execute(s) -> body` that `api.handle` runs under
the request's idempotency key; events they record go to `call.events`, to be delivered
once the emulator's transaction has committed.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_request_context, url_for
from sqlalchemy.orm import Session

from . import (
    customers,
    eventlog,
    ledger,
    payment_params,
    payment_shapes,
    promotions,
    session_params,
    shapes,
    store,
)
from .models import EmulatorPayment, EmulatorRefund, EmulatorSession

Write = Callable[[Session], dict]


@dataclass
class Call:
    """One API request as the endpoints see it."""

    values: dict[str, Any]
    now: int
    origin: eventlog.Origin
    #: Events recorded by this request, delivered after its transaction commits.
    events: list[str] = field(default_factory=list)
    #: Later steps (each in its own transaction) returning the events they recorded.
    then: list[Callable[[], list[str]]] = field(default_factory=list)

    def record(self, s: Session, event_type: str, obj: dict, origin=None) -> None:
        """Record an event in this request's transaction, to deliver after the commit."""
        event = eventlog.add_event(s, event_type, obj, self.now, origin or self.origin)
        self.events.append(event.id)


def page_url(session_id: str) -> str:
    """The hosted page of a session, on the host the request came to."""
    if has_request_context():
        return url_for("emulator.checkout_page", session_id=session_id, _external=True)
    with current_app.test_request_context():  # a CLI or test call: the default host
        return url_for("emulator.checkout_page", session_id=session_id, _external=True)


def listing(url: str, data: list[dict], has_more: bool) -> dict[str, Any]:
    """Stripe's list object."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


# --- views: rows as Stripe objects, with the expansions asked for ---


def session_view(s: Session, row: EmulatorSession, expand: list[str], now: int) -> dict:
    """A `checkout.session`, expanding `line_items` and `payment_intent` when asked."""
    body = shapes.session(row, expand, now)
    if "payment_intent" in expand and row.payment_intent:
        payment = ledger.get_payment(s, intent=row.payment_intent)
        body["payment_intent"] = payment_shapes.payment_intent(payment)
    return body


def intent_view(payment: EmulatorPayment, expand: list[str]) -> dict:
    """A `payment_intent`, expanding `latest_charge` when asked (and there is one)."""
    charge = None
    if "latest_charge" in expand and payment.charge_id:
        charge = payment_shapes.charge(payment)
    return payment_shapes.payment_intent(payment, charge)


def refund_view(s: Session, refund: EmulatorRefund, expand: list[str]) -> dict:
    """A `refund`, expanding `charge` and `payment_intent` when asked."""
    payment = ledger.payment_of(s, refund)
    expanded = {}
    if "charge" in expand:
        expanded["charge"] = payment_shapes.charge(payment)
    if "payment_intent" in expand:
        expanded["payment_intent"] = payment_shapes.payment_intent(payment)
    return payment_shapes.refund(refund, payment, expanded)


# --- reads ---


def list_sessions(s: Session, call: Call) -> dict:
    """`GET /v1/checkout/sessions`."""
    query = session_params.list_params(call.values)
    rows, more = store.list_sessions(s, query, call.now)
    data = [session_view(s, row, query["expand"], call.now) for row in rows]
    return listing("/v1/checkout/sessions", data, more)


def retrieve_session(s: Session, call: Call, session_id: str) -> dict:
    """`GET /v1/checkout/sessions/{id}`."""
    expand = session_params.retrieve_params(call.values)
    return session_view(s, store.get_session(s, session_id), expand, call.now)


def session_line_items(s: Session, call: Call, session_id: str) -> dict:
    """`GET /v1/checkout/sessions/{id}/line_items`."""
    query = session_params.line_items_params(call.values)
    return shapes.line_items(store.get_session(s, session_id), query)


def retrieve_intent(s: Session, call: Call, intent_id: str) -> dict:
    """`GET /v1/payment_intents/{id}`."""
    expand = payment_params.retrieve_params(call.values, {"latest_charge"})
    return intent_view(ledger.get_payment(s, intent=intent_id), expand)


def retrieve_charge(s: Session, call: Call, charge_id: str) -> dict:
    """`GET /v1/charges/{id}`."""
    payment_params.retrieve_params(call.values, set())
    return payment_shapes.charge(ledger.get_payment(s, charge=charge_id))


def list_refunds(s: Session, call: Call) -> dict:
    """`GET /v1/refunds`."""
    query = payment_params.list_refunds_params(call.values)
    rows, more = ledger.list_refunds(s, query)
    return listing("/v1/refunds", [refund_view(s, r, query["expand"]) for r in rows], more)


def retrieve_refund(s: Session, call: Call, refund_id: str) -> dict:
    """`GET /v1/refunds/{id}`."""
    expand = payment_params.retrieve_params(call.values, {"charge", "payment_intent"})
    return refund_view(s, ledger.get_refund(s, refund_id), expand)


def list_events(s: Session, call: Call) -> dict:
    """`GET /v1/events`."""
    rows, more = eventlog.list_events(s, payment_params.list_events_params(call.values))
    return listing("/v1/events", [json.loads(row.payload) for row in rows], more)


def retrieve_event(s: Session, call: Call, event_id: str) -> dict:
    """`GET /v1/events/{id}`."""
    payment_params.retrieve_params(call.values, set())
    return json.loads(eventlog.get_event(s, event_id).payload)


# --- writes ---


def create_session(call: Call) -> Write:
    """`POST /v1/checkout/sessions`."""
    checked = session_params.create_params(call.values, call.now)

    def execute(s: Session) -> dict:
        """Look up its tax rates and discount, then store the session."""
        lines = []
        for index, line in enumerate(checked["lines"]):
            kept = {name: value for name, value in line.items() if name != "tax_rate_ids"}
            param = f"line_items[{index}][tax_rates]"
            kept["tax_rates"] = promotions.rate_snapshots(s, line["tax_rate_ids"], param)
            lines.append(kept)
        discount = promotions.session_discount(
            s, checked["discounts"], checked["currency"], checked["amount_subtotal"],
            checked["customer_email"], call.now,
        )  # fmt: skip
        if checked["customer"]:
            found = customers.get_customer(s, checked["customer"], "customer")
            checked["customer_email"] = found.email  # what the page and its receipt use
        values = {**checked, "lines": lines, "discount": discount}
        row = store.create_session(s, values, page_url, call.now)
        return session_view(s, row, checked["expand"], call.now)

    return execute


def create_coupon(call: Call) -> Write:
    """`POST /v1/coupons`."""
    checked = promotions.coupon_params(call.values, call.now)
    return lambda s: promotions.coupon(promotions.create_coupon(s, checked, call.now), call.now)


def retrieve_coupon(s: Session, call: Call, coupon_id: str) -> dict:
    """`GET /v1/coupons/{id}`."""
    payment_params.retrieve_params(call.values, set())
    return promotions.coupon(promotions.get_coupon(s, coupon_id), call.now)


def create_promotion_code(call: Call) -> Write:
    """`POST /v1/promotion_codes`."""
    checked = promotions.promotion_code_params(call.values, call.now)
    expanded = "promotion.coupon" in (call.values.get("expand") or [])

    def execute(s: Session) -> dict:
        """Store the code for its coupon."""
        row = promotions.create_promotion_code(s, checked, call.now)
        return promotions.promotion_code(s, row, call.now, expanded)

    return execute


def update_promotion_code(call: Call, promo_id: str) -> Write:
    """`POST /v1/promotion_codes/{id}`."""
    checked = promotions.update_promotion_code_params(call.values)

    def execute(s: Session) -> dict:
        """Change what may change: `active`, `metadata`."""
        row = promotions.update_promotion_code(s, promo_id, checked)
        return promotions.promotion_code(s, row, call.now)

    return execute


def retrieve_promotion_code(s: Session, call: Call, promo_id: str) -> dict:
    """`GET /v1/promotion_codes/{id}`."""
    expanded = "promotion.coupon" in payment_params.retrieve_params(
        call.values, {"promotion.coupon"}
    )
    row = promotions.get_promotion_code(s, promo_id)
    return promotions.promotion_code(s, row, call.now, expanded)


def list_promotion_codes(s: Session, call: Call) -> dict:
    """`GET /v1/promotion_codes`."""
    query = promotions.list_promotion_codes_params(call.values)
    rows, more = promotions.list_promotion_codes(s, query)
    data = [promotions.promotion_code(s, row, call.now) for row in rows]
    return listing("/v1/promotion_codes", data, more)


def create_tax_rate(call: Call) -> Write:
    """`POST /v1/tax_rates`."""
    checked = promotions.tax_rate_params(call.values)
    return lambda s: promotions.tax_rate(promotions.create_tax_rate(s, checked, call.now))


def retrieve_tax_rate(s: Session, call: Call, rate_id: str) -> dict:
    """`GET /v1/tax_rates/{id}`."""
    payment_params.retrieve_params(call.values, set())
    return promotions.tax_rate(promotions.get_tax_rate(s, rate_id))


def expire_session(call: Call, session_id: str) -> Write:
    """`POST /v1/checkout/sessions/{id}/expire`."""
    expand = session_params.retrieve_params(call.values)

    def execute(s: Session) -> dict:
        """Expire the session and record `checkout.session.expired`."""
        row = store.expire_session(s, session_id, call.now)
        # Recorded, not pushed: `flask emulator expire-due` delivers it, never the caller's
        # own request (the shop expires sessions from inside its checkout flow).
        eventlog.add_event(
            s, "checkout.session.expired", shapes.session(row, (), call.now), call.now,
            call.origin,
        )  # fmt: skip
        return session_view(s, row, expand, call.now)

    return execute


def create_refund(call: Call) -> Write:
    """`POST /v1/refunds`: refunded at once; on the "refund fails" card it then fails."""
    checked = payment_params.create_refund_params(call.values)

    def execute(s: Session) -> dict:
        """Store the refund, move the charge's total, record both events in order."""
        refund = ledger.create_refund(s, checked, call.now)
        payment = ledger.payment_of(s, refund)
        call.record(s, "refund.created", payment_shapes.refund(refund, payment))
        call.record(s, "charge.refunded", payment_shapes.charge(payment))
        if payment.refunds_fail:
            call.then.append(lambda: _fail(call, refund.id))
        return refund_view(s, refund, checked["expand"])

    return execute


def _fail(call: Call, refund_id: str) -> list[str]:
    """The refund fails after succeeding (Stripe's 4000 0000 0000 5126 card)."""
    with store.transaction() as s:
        refund = ledger.fail_refund(s, refund_id)
        if refund is None:
            return []
        body = payment_shapes.refund(refund, ledger.payment_of(s, refund))
        failed = eventlog.add_event(s, "refund.failed", body, call.now)
        previous = {"failure_reason": None, "status": "succeeded"}
        updated = eventlog.add_event(s, "refund.updated", body, call.now, previous=previous)
        return [failed.id, updated.id]


def create_customer(call: Call) -> Write:
    """`POST /v1/customers`."""
    checked = customers.customer_params(call.values)
    return lambda s: customers.customer(customers.create_customer(s, checked, call.now))


def retrieve_customer(s: Session, call: Call, customer_id: str) -> dict:
    """`GET /v1/customers/{id}`."""
    payment_params.retrieve_params(call.values, set())
    return customers.customer(customers.get_customer(s, customer_id))


def delete_customer(call: Call, customer_id: str) -> Write:
    """`DELETE /v1/customers/{id}`: its cards are detached."""
    payment_params.retrieve_params(call.values, set())
    return lambda s: customers.delete_customer(s, customer_id)


def list_customer_payment_methods(s: Session, call: Call, customer_id: str) -> dict:
    """`GET /v1/customers/{id}/payment_methods`."""
    query = customers.list_params(call.values)
    rows, more = customers.list_payment_methods(s, customer_id, query)
    data = [customers.payment_method(row) for row in rows]
    return listing(f"/v1/customers/{customer_id}/payment_methods", data, more)


def retrieve_payment_method(s: Session, call: Call, pm_id: str) -> dict:
    """`GET /v1/payment_methods/{id}`."""
    payment_params.retrieve_params(call.values, set())
    return customers.payment_method(customers.get_payment_method(s, pm_id))


def detach_payment_method(call: Call, pm_id: str) -> Write:
    """`POST /v1/payment_methods/{id}/detach`."""
    payment_params.retrieve_params(call.values, set())
    return lambda s: customers.payment_method(customers.detach(s, pm_id))
