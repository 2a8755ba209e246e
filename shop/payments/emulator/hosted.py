"""The hosted checkout page's actions: show a session and pay it with a test card."""

import re
import time
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext

from . import customers, errors, eventlog, events, ledger, promotions, shapes, shipping, store

PAYS = "4242424242424242"
DECLINED = "4000000000000002"
#: Stripe's test card whose charge succeeds and whose refunds then fail (`refund.failed`).
REFUND_FAILS = "4000000000005126"
TEST_CARD_HINT = lazy_gettext(
    "Use a test card: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined, "
    "4000 0000 0000 5126 pays but its refunds fail."
)


class PaymentError(Exception):
    """The page refuses the payment; `status` is the HTTP status the page answers with."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


def view(session_id: str) -> dict[str, Any] | None:
    """The session with all its line items, as the page shows it; None if unknown."""
    with store.transaction() as s:
        try:
            row = store.get_session(s, session_id)
        except errors.ApiError:
            return None
        page = {"limit": len(row.line_items), "starting_after": None, "ending_before": None}
        offered = row.shipping or {}
        code = None
        if row.discount and row.discount["promotion_code"]:
            code = promotions.get_promotion_code(s, row.discount["promotion_code"]).code
        return {
            **shapes.session(row),
            # What the items come to (after discount, with exclusive tax), before shipping.
            "items_total": store.items_total(row),
            # Whom the page is for: the session's email, or its Customer's.
            "email": row.customer_email,
            "promotion_code": code,
            # The customer's saved cards (pay with one), and whether a new one may be saved.
            "saved_cards": [
                {
                    "id": card.id,
                    "brand": card.brand,
                    "last4": card.last4,
                    "exp_month": card.exp_month,
                    "exp_year": card.exp_year,
                }
                for card in customers.saved_cards(s, row.customer)
            ],  # fmt: skip
            "save_card_offered": row.save_card_offered,
            "line_items": shapes.line_items(row, page),
            # What the page's shipping fields offer and hold before the customer types.
            "ship_to": offered.get("allowed_countries") or [],
            "rates": offered.get("options") or [],
            "defaults": defaults(row.shipping),
        }


def defaults(offered: dict[str, Any] | None) -> dict[str, str]:
    """The shipping fields as the page fills them in: a plain post of the form pays."""
    if not offered:
        return {}
    countries = offered["allowed_countries"] or [""]
    values = {f"shipping_{name}": value for name, value in shipping.DEFAULT_ADDRESS.items()}
    values["shipping_country"] = countries[0]
    if offered["options"]:
        values["shipping_rate"] = offered["options"][0]["id"]
    return values


def success_url(session: dict[str, Any]) -> str:
    """`success_url` with `{CHECKOUT_SESSION_ID}` filled in, as Stripe redirects."""
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])


def _open_session(s, session_id: str, now: int):
    """The session to pay, or the page's refusal if it is unknown or no longer open."""
    try:
        row = store.get_session(s, session_id)
    except errors.ApiError:
        raise PaymentError(_("This checkout session does not exist."), 404) from None
    status = shapes.effective_status(row, now)
    if status != "open":
        raise PaymentError(
            _("This checkout session is %(status)s; nothing was charged.", status=status), 409
        )
    return row


def _decline(session_id: str, number: str, now: int) -> PaymentError:
    """Record the declined attempt (the session's PaymentIntent now needs a new card)."""
    with store.transaction() as s:
        ledger.record_decline(s, _open_session(s, session_id, now), number, now)
    return PaymentError(_("Your card was declined. Nothing was charged."), 402)


def _apply_code(s, row, code: str, now: int) -> None:
    """Price the session again with a code the customer typed, or refuse it saying why."""
    if not row.allow_promotion_codes:
        raise PaymentError(_("This checkout does not take promotion codes."), 422)
    found = promotions.find_active(s, code)
    if found is None:
        raise PaymentError(_("The promotion code %(code)s is not valid.", code=code[:40]), 422)
    reason = promotions.refusal(
        s, found, row.currency, row.amount_subtotal, row.customer_email, now, _
    )
    if reason:
        raise PaymentError(reason, 422)
    coupon = promotions.get_coupon(s, found.coupon_id)
    discount = {"promotion_code": found.id, "coupon": coupon.id,
                "snapshot": promotions.coupon_snapshot(coupon)}  # fmt: skip
    store.apply_discount(s, row, discount)


def pay(
    session_id: str, card_number: str = PAYS, form: dict[str, str] | None = None
) -> dict[str, Any]:
    """Pay an open session: complete it with a PaymentIntent and Charge, deliver
    `checkout.session.completed` (unless webhooks are off), and return the delivery
    (`event_id`, `type`, `status_code`, `body`) with the session and `redirect_url`.

    `form` holds the page's shipping fields and the `promotion_code` typed (for a session
    made with `allow_promotion_codes`); missing shipping fields take the page's defaults (a
    valid address in the first allowed country, the first rate). A session that comes to
    nothing is completed without a card, as Stripe does."""
    form = form or {}
    number = re.sub(r"\s+", "", card_number or "")
    now = int(time.time())
    with store.transaction() as s:
        opened = _open_session(s, session_id, now)
        free = opened.amount_total == 0
        saved = (form.get("payment_method") or "").strip()
        if saved and not free:
            card = next((c for c in customers.saved_cards(s, opened.customer) if c.id == saved),
                        None)  # fmt: skip
            if card is None:
                raise PaymentError(_("Choose one of your saved cards, or type a card."), 422)
            number = PAYS  # a saved test card pays
            form = {**form, "save_card": ""}
    if not free and number not in (PAYS, DECLINED, REFUND_FAILS):
        raise PaymentError(str(TEST_CARD_HINT), 422)
    if not free and number == DECLINED:
        raise _decline(session_id, number, now)
    with store.transaction() as s:
        row = _open_session(s, session_id, now)
        if (form.get("promotion_code") or "").strip():
            _apply_code(s, row, form["promotion_code"].strip(), now)
        offered = row.shipping
        try:
            collected = shipping.collect(offered, {**defaults(offered), **form})
        except shipping.AddressRefused as refused:
            raise PaymentError(str(refused), 422) from None
        try:
            row = store.complete_session(s, session_id, now, collected)
        except errors.ApiError:  # expired or paid a moment ago by another request
            raise PaymentError(_("This checkout session is no longer open."), 409) from None
        # Lock: the code's guarded UPDATE; of parallel payments past its limit, the late
        # ones are refused here and their whole transaction (the completion) rolls back.
        if not promotions.redeem(s, row.discount, now):
            raise PaymentError(
                _(
                    "The promotion code on this checkout can no longer be used: it ran out, "
                    "expired or was withdrawn. Nothing was charged."
                ),
                409,
            )
        if row.payment_status == "paid":
            ledger.record_payment(s, row, number, number == REFUND_FAILS, now)
            if form.get("save_card") == "on" and row.save_card_offered and row.customer:
                customers.save_card(s, row.customer, number, now)
        session = shapes.session(row, (), now)
        event = eventlog.add_event(s, "checkout.session.completed", session, now)
    delivered = events.deliver_new([event.id])
    delivery = delivered[0] if delivered else {
        "event_id": event.id, "type": event.type, "status_code": None,
        "body": "not delivered: STRIPE_EMULATOR_WEBHOOKS=0",
    }  # fmt: skip
    return {**delivery, "session": session, "redirect_url": success_url(session)}
