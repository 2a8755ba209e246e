"""PaymentIntents, Charges and Refunds: written when a session is paid or refunded.

One `EmulatorPayment` row is a session's PaymentIntent and, once paid, its Charge.
Every function runs inside the caller's `store.transaction()`.
"""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import currencies, errors, shapes
from .models import EmulatorPayment, EmulatorRefund, EmulatorSession
from .store import created_filter, fetch, keyset_page

SUCCEEDED, REQUIRES_PAYMENT_METHOD = "succeeded", "requires_payment_method"
#: Why a refund on Stripe's "refund fails" test card fails (one of Stripe's documented reasons).
FAILURE_REASON = "expired_or_canceled_card"


def _intent_row(s: Session, session: EmulatorSession, now: int) -> EmulatorPayment:
    """The session's PaymentIntent row, made on the first payment attempt."""
    found = s.scalar(select(EmulatorPayment).where(EmulatorPayment.session_id == session.id))
    if found is not None:
        return found
    # Lock: the unique session_id; racing attempts on one session were already serialised
    # by the session's guarded UPDATE (a payment) or fail this insert (two declines).
    row = EmulatorPayment(
        payment_intent_id=session.payment_intent or shapes.new_id("pi_"),
        charge_id=None,
        payment_method_id=None,
        session_id=session.id,
        status=REQUIRES_PAYMENT_METHOD,
        amount=session.amount_total,
        amount_refunded=0,
        currency=session.currency,
        card_last4=None,
        refunds_fail=False,
        receipt_email=session.customer_email,
        meta=dict(session.meta),
        created=now,
    )
    s.add(row)
    s.flush()
    return row


def record_decline(s: Session, session: EmulatorSession, card: str, now: int) -> EmulatorPayment:
    """A declined card: the session gets a PaymentIntent still needing a payment method."""
    row = _intent_row(s, session, now)
    row.card_last4, row.decline_code = card[-4:], "generic_decline"
    # Lock: guarded UPDATE ... WHERE payment_intent IS NULL; the intent is named only once.
    s.execute(
        update(EmulatorSession)
        .where(EmulatorSession.id == session.id, EmulatorSession.payment_intent.is_(None))
        .values(payment_intent=row.payment_intent_id)
        .execution_options(synchronize_session=False)
    )
    return row


def record_payment(
    s: Session, session: EmulatorSession, card: str, refunds_fail: bool, now: int
) -> EmulatorPayment:
    """A paid session: its PaymentIntent succeeded with one captured Charge."""
    row = _intent_row(s, session, now)
    row.status, row.decline_code = SUCCEEDED, None
    row.charge_id, row.payment_method_id = shapes.new_id("ch_"), shapes.new_id("pm_")
    row.card_last4, row.refunds_fail, row.paid_at = card[-4:], refunds_fail, now
    return row


def get_payment(s: Session, *, intent: str | None = None, charge: str | None = None,
                param: str = "id") -> EmulatorPayment:  # fmt: skip
    """The payment by PaymentIntent id or Charge id, or Stripe's 404."""
    if not intent:
        return fetch(s, EmulatorPayment.charge_id, charge, "charge", param)
    try:
        return fetch(s, EmulatorPayment.payment_intent_id, intent, "payment_intent", param)
    except errors.ApiError:
        if not _adopt(s, intent):
            raise
        return fetch(s, EmulatorPayment.payment_intent_id, intent, "payment_intent", param)


def _adopt(s: Session, intent: str) -> bool:
    """Make the intent and charge of a paid session that has none (a row written straight
    into the table, as the multi-process proofs do), like migration 0006 does for sessions
    paid before it. False when no paid session names this intent."""
    session = s.scalar(
        select(EmulatorSession).where(
            EmulatorSession.payment_intent == intent, EmulatorSession.status == "complete"
        )
    )
    if session is None:
        return False
    values = {
        "payment_intent_id": intent, "session_id": session.id, "status": SUCCEEDED,
        "charge_id": shapes.new_id("ch_"), "payment_method_id": shapes.new_id("pm_"),
        "amount": session.amount_total, "amount_refunded": 0, "currency": session.currency,
        "card_last4": "4242", "decline_code": None, "refunds_fail": False,
        "receipt_email": session.customer_email, "meta": dict(session.meta),
        "created": session.created, "paid_at": session.created,
    }  # fmt: skip
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    # Lock: INSERT ... ON CONFLICT DO NOTHING on the unique session_id; when two readers
    # adopt the same session at once, the first row stays and both read it back.
    s.execute(dialect.insert(EmulatorPayment).values(**values).on_conflict_do_nothing())
    return True


def _refundable(row: EmulatorPayment, amount: int | None) -> int:
    """The amount to refund (default: all that is left), or Stripe's refusal."""
    if row.status != SUCCEEDED:
        raise errors.ApiError(
            f"This PaymentIntent ({row.payment_intent_id}) does not have a successful charge "
            "to refund.",
        )
    left = row.amount - row.amount_refunded
    if left <= 0:
        raise errors.ApiError(
            f"Charge {row.charge_id} has already been refunded.", code="charge_already_refunded"
        )
    if amount is not None and amount > left:
        raise errors.invalid(
            "amount",
            f"Refund amount ({currencies.format_amount(amount, row.currency)}) is greater than "
            f"unrefunded amount on charge ({currencies.format_amount(left, row.currency)})",
            code="amount_too_large",
        )
    return left if amount is None else amount


def create_refund(s: Session, values: dict[str, Any], now: int) -> EmulatorRefund:
    """Refund (part of) a payment's charge at once, as card refunds in test mode do."""
    param = "payment_intent" if values["payment_intent"] else "charge"
    found = get_payment(s, intent=values["payment_intent"], charge=values["charge"], param=param)
    amount = _refundable(found, values["amount"])
    # Lock: one guarded UPDATE; a concurrent refund of the same charge waits on the row and
    # then sees the new total, so two refunds can never take more than the charge.
    moved = s.execute(
        update(EmulatorPayment)
        .where(
            EmulatorPayment.pk == found.pk,
            EmulatorPayment.status == SUCCEEDED,
            EmulatorPayment.amount_refunded + amount <= EmulatorPayment.amount,
        )
        .values(amount_refunded=EmulatorPayment.amount_refunded + amount)
        .execution_options(synchronize_session=False)
    ).rowcount
    payment = get_payment(s, intent=found.payment_intent_id)
    if not moved:  # another refund got in first: refuse in the words the new total calls for
        _refundable(payment, amount)
    refund = EmulatorRefund(
        id=shapes.new_id("re_"), payment_pk=payment.pk, amount=amount,
        currency=payment.currency, reason=values["reason"], status=SUCCEEDED,
        failure_reason=None, meta=values["metadata"], created=now,
    )  # fmt: skip
    s.add(refund)
    s.flush()
    return refund


def fail_refund(s: Session, refund_id: str) -> EmulatorRefund | None:
    """Turn a succeeded refund to `failed` and give its amount back to the charge.

    Lock: guarded UPDATE ... WHERE status = 'succeeded' (a refund fails once), then the
    payment's total moves back with one relative UPDATE on its row.
    """
    changed = s.execute(
        update(EmulatorRefund)
        .where(EmulatorRefund.id == refund_id, EmulatorRefund.status == SUCCEEDED)
        .values(status="failed", failure_reason=FAILURE_REASON)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        return None
    refund = get_refund(s, refund_id)
    s.execute(
        update(EmulatorPayment)
        .where(EmulatorPayment.pk == refund.payment_pk)
        .values(amount_refunded=EmulatorPayment.amount_refunded - refund.amount)
        .execution_options(synchronize_session=False)
    )
    return refund


def get_refund(s: Session, refund_id: str, param: str = "id") -> EmulatorRefund:
    """The refund with this id, or Stripe's 404."""
    return fetch(s, EmulatorRefund.id, refund_id, "refund", param)


def payment_of(s: Session, refund: EmulatorRefund) -> EmulatorPayment:
    """The payment a refund belongs to, as it is now."""
    return fetch(s, EmulatorPayment.pk, refund.payment_pk, "charge")


def list_refunds(s: Session, query: dict[str, Any]) -> tuple[list[EmulatorRefund], bool]:
    """A page of refunds, newest first, of one charge or PaymentIntent if asked."""
    stmt = select(EmulatorRefund).where(*created_filter(EmulatorRefund.created, query["created"]))
    if query["payment_intent"] or query["charge"]:
        param = "payment_intent" if query["payment_intent"] else "charge"
        payment = get_payment(
            s, intent=query["payment_intent"], charge=query["charge"], param=param
        )
        stmt = stmt.where(EmulatorRefund.payment_pk == payment.pk)

    def cursor(refund_id: str, param: str) -> tuple:
        """The position of the refund a cursor names."""
        return (get_refund(s, refund_id, param).pk,)

    return keyset_page(s, stmt, (EmulatorRefund.pk,), cursor, query)
