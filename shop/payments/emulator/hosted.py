"""The hosted checkout page's actions: show a session and pay it with a test card."""

import re
import time
from typing import Any

from . import errors, eventlog, events, ledger, shapes, shipping, store

PAYS = "4242424242424242"
DECLINED = "4000000000000002"
#: Stripe's test card whose charge succeeds and whose refunds then fail (`refund.failed`).
REFUND_FAILS = "4000000000005126"
TEST_CARD_HINT = (
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
        return {
            **shapes.session(row),
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
        raise PaymentError("This checkout session does not exist.", 404) from None
    status = shapes.effective_status(row, now)
    if status != "open":
        raise PaymentError(f"This checkout session is {status}; nothing was charged.", 409)
    return row


def _decline(session_id: str, number: str, now: int) -> PaymentError:
    """Record the declined attempt (the session's PaymentIntent now needs a new card)."""
    with store.transaction() as s:
        ledger.record_decline(s, _open_session(s, session_id, now), number, now)
    return PaymentError("Your card was declined. Nothing was charged.", 402)


def pay(
    session_id: str, card_number: str = PAYS, form: dict[str, str] | None = None
) -> dict[str, Any]:
    """Pay an open session: complete it with a PaymentIntent and Charge, deliver
    `checkout.session.completed` (unless webhooks are off), and return the delivery
    (`event_id`, `type`, `status_code`, `body`) with the session and `redirect_url`.

    `form` holds the page's shipping fields; missing ones take the page's defaults (a valid
    address in the first allowed country, the first rate)."""
    number = re.sub(r"\s+", "", card_number or "")
    if number not in (PAYS, DECLINED, REFUND_FAILS):
        raise PaymentError(TEST_CARD_HINT, 422)
    now = int(time.time())
    if number == DECLINED:
        raise _decline(session_id, number, now)
    with store.transaction() as s:
        offered = _open_session(s, session_id, now).shipping
        try:
            collected = shipping.collect(offered, {**defaults(offered), **(form or {})})
        except shipping.AddressRefused as refused:
            raise PaymentError(str(refused), 422) from None
        try:
            row = store.complete_session(s, session_id, now, collected)
        except errors.ApiError:  # expired or paid a moment ago by another request
            raise PaymentError("This checkout session is no longer open.", 409) from None
        ledger.record_payment(s, row, number, number == REFUND_FAILS, now)
        session = shapes.session(row, (), now)
        event = eventlog.add_event(s, "checkout.session.completed", session, now)
    delivered = events.deliver_new([event.id])
    delivery = delivered[0] if delivered else {
        "event_id": event.id, "type": event.type, "status_code": None,
        "body": "not delivered: STRIPE_EMULATOR_WEBHOOKS=0",
    }  # fmt: skip
    return {**delivery, "session": session, "redirect_url": success_url(session)}
