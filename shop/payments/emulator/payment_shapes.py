"""Payment rows as Stripe's `payment_intent`, `charge` and `refund` objects (card payments
made on the hosted page, in test mode)."""

from typing import Any

from .models import EmulatorPayment, EmulatorRefund


def _card(row: EmulatorPayment) -> dict[str, Any]:
    """`payment_method_details.card` of a test card payment."""
    return {
        "amount_authorized": row.amount,
        "authorization_code": None,
        "brand": "visa",
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },  # fmt: skip
        "country": "US",
        "exp_month": 12,
        "exp_year": 2034,
        "extended_authorization": {"status": "disabled"},
        "fingerprint": None,
        "funding": "credit",
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": row.card_last4,
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": "visa",
        "network_token": {"used": False},
        "network_transaction_id": None,
        "overcapture": {"maximum_amount_capturable": row.amount, "status": "unavailable"},
        "regulated_status": "unregulated",
        "three_d_secure": None,
        "wallet": None,
    }


def _last_payment_error(row: EmulatorPayment) -> dict[str, Any] | None:
    """The decline a PaymentIntent still needing a payment method carries."""
    if row.decline_code is None:
        return None
    return {
        "code": "card_declined",
        "decline_code": row.decline_code,
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": "Your card was declined.",
        "type": "card_error",
    }


def payment_intent(row: EmulatorPayment, latest_charge: dict | None = None) -> dict[str, Any]:
    """A `payment_intent`; `latest_charge` is the expanded Charge when asked for."""
    paid = row.status == "succeeded"
    return {
        "id": row.payment_intent_id,
        "object": "payment_intent",
        "allowed_payment_method_types": None,
        "amount": row.amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": row.amount if paid else 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{row.payment_intent_id}_secret_emulator",
        "confirmation_method": "automatic",
        "created": row.created,
        "currency": row.currency,
        "customer": None,
        "customer_account": None,
        "description": None,
        "excluded_payment_method_types": None,
        "hooks": None,
        "last_payment_error": None if paid else _last_payment_error(row),
        "latest_charge": latest_charge or row.charge_id,
        "livemode": False,
        "managed_payments": None,
        "metadata": dict(row.meta),
        "next_action": None,
        "on_behalf_of": None,
        "payment_details": None,
        "payment_method": row.payment_method_id,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "payment_record": None,
        "presentment_details": None,
        "processing": None,
        "receipt_email": row.receipt_email,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": row.status,
        "transfer_data": None,
        "transfer_group": None,
    }


def charge(row: EmulatorPayment) -> dict[str, Any]:
    """The `charge` of a paid PaymentIntent, with what has been refunded so far."""
    return {
        "id": row.charge_id,
        "object": "charge",
        "amount": row.amount,
        "amount_captured": row.amount,
        "amount_refunded": row.amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "authorization_code": None,
        "balance_transaction": None,  # the emulator keeps no balance
        "billing_details": {
            "address": None,
            "email": row.receipt_email,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "NORTHSIDE ROASTERY",
        "captured": True,
        "created": row.paid_at or row.created,
        "currency": row.currency,
        "customer": None,
        "description": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "level3": None,
        "livemode": False,
        "metadata": dict(row.meta),
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": row.payment_intent_id,
        "payment_method": row.payment_method_id,
        "payment_method_details": {"card": _card(row), "type": "card"},
        "presentment_details": None,
        "radar_options": {},
        "receipt_email": row.receipt_email,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": row.amount_refunded == row.amount,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer": None,
        "transfer_data": None,
        "transfer_group": None,
    }


def refund(row: EmulatorRefund, payment: EmulatorPayment, expanded: dict | None = None) -> dict:
    """A `refund`; `expanded` holds the Charge or PaymentIntent objects asked for."""
    expanded = expanded or {}
    return {
        "id": row.id,
        "object": "refund",
        "amount": row.amount,
        "balance_transaction": None,
        "charge": expanded.get("charge") or payment.charge_id,
        "created": row.created,
        "currency": row.currency,
        "customer": None,
        "customer_account": None,
        "description": None,
        "destination_details": {
            "card": {
                "reference": None,
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "failure_balance_transaction": None,
        "failure_reason": row.failure_reason,
        "instructions_email": None,
        "metadata": dict(row.meta),
        "next_action": None,
        "payment_intent": expanded.get("payment_intent") or payment.payment_intent_id,
        "payment_method": payment.payment_method_id,
        "pending_reason": None,
        "presentment_details": None,
        "reason": row.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": row.status,
        "transfer_reversal": None,
    }
