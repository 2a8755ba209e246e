"""The hosted checkout page's actions: show a session and pay it with a test card."""

import re
import time
from typing import Any

from . import errors, events, shapes, store

PAYS = "4242424242424242"
DECLINED = "4000000000000002"
TEST_CARD_HINT = "Use a test card: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined."


class PaymentError(Exception):
    """The page refuses the payment; `status` is the HTTP status the page answers with."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


def view(session_id: str) -> dict[str, Any] | None:
    """The session with its line items, as the page shows it; None if unknown."""
    with store.transaction() as s:
        try:
            return shapes.session(store.get_session(s, session_id), ["line_items"])
        except errors.ApiError:
            return None


def success_url(session: dict[str, Any]) -> str:
    """`success_url` with `{CHECKOUT_SESSION_ID}` filled in, as Stripe redirects."""
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])


def pay(session_id: str, card_number: str = PAYS) -> dict[str, Any]:
    """Pay an open session: complete it, deliver `checkout.session.completed`, and
    return the delivery (`status_code`, `body`) with the session and `redirect_url`."""
    number = re.sub(r"\s+", "", card_number or "")
    if number not in (PAYS, DECLINED):
        raise PaymentError(TEST_CARD_HINT, 422)
    now = int(time.time())
    with store.transaction() as s:
        try:
            row = store.get_session(s, session_id)
        except errors.ApiError:
            raise PaymentError("This checkout session does not exist.", 404) from None
        status = shapes.effective_status(row, now)
        if status != "open":
            raise PaymentError(f"This checkout session is {status}; nothing was charged.", 409)
        if number == DECLINED:
            raise PaymentError("Your card was declined. Nothing was charged.", 402)
        try:
            row = store.complete_session(s, session_id, now)
        except errors.ApiError:  # expired or paid a moment ago by another request
            raise PaymentError("This checkout session is no longer open.", 409) from None
        session = shapes.session(row, (), now)
        event = store.add_event(s, "checkout.session.completed", session, now)
    delivery = events.deliver(event.id)
    return {**delivery, "session": session, "redirect_url": success_url(session)}
