"""Customers and the cards saved on them: their parameters, rows and Stripe shapes.

A Checkout Session made for a `customer` with `saved_payment_method_options[
payment_method_save]=enabled` shows a "save this card" box (`save_card`) and the cards the
customer saved before; a saved card becomes a PaymentMethod attached to the Customer, until
it is detached (`POST /v1/payment_methods/{id}/detach`) or the Customer is deleted.
"""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import errors, shapes
from .models import EmulatorCustomer, EmulatorPaymentMethod
from .params import PAGE, metadata, only, optional_string, page
from .store import fetch, keyset_page

#: The payment method types a `payment_method` object has a (null) hash for besides
#: `card`: Stripe sends each, null unless it is that type.
OTHER_TYPES = [
    "acss_debit",
    "affirm",
    "afterpay_clearpay",
    "alipay",
    "alma",
    "amazon_pay",
    "au_becs_debit",
    "bacs_debit",
    "bancontact",
    "billie",
    "bizum",
    "blik",
    "boleto",
    "card_present",
    "cashapp",
    "crypto",
    "custom",
    "customer_balance",
    "eps",
    "fpx",
    "giropay",
    "grabpay",
    "ideal",
    "interac_present",
    "kakao_pay",
    "klarna",
    "konbini",
    "kr_card",
    "link",
    "mb_way",
    "mobilepay",
    "multibanco",
    "naver_pay",
    "nz_bank_account",
    "oxxo",
    "p24",
    "pay_by_bank",
    "payco",
    "paynow",
    "paypal",
    "paypay",
    "payto",
    "pix",
    "promptpay",
    "revolut_pay",
    "samsung_pay",
    "satispay",
    "scalapay",
    "sepa_debit",
    "sequra",
    "sofort",
    "sunbit",
    "swish",
    "twint",
    "upi",
    "us_bank_account",
    "wechat_pay",
    "zip",
]
#: Test cards by number: (brand, last 4). Saved cards expire at the end of this year.
BRANDS = {"4242424242424242": "visa", "4000000000005126": "visa"}
EXPIRES = (12, 2034)


def customer_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate `POST /v1/customers`."""
    only(params, {"email", "name", "metadata", "expand"})
    return {
        "email": optional_string(params, "email", 512),
        "name": optional_string(params, "name", 256),
        "metadata": metadata(params.get("metadata")),
    }


def create_customer(s: Session, values: dict[str, Any], now: int) -> EmulatorCustomer:
    """Store a Customer."""
    row = EmulatorCustomer(
        id=shapes.new_id("cus_", 14), email=values["email"], name=values["name"],
        meta=values["metadata"], created=now, deleted=False,
    )  # fmt: skip
    s.add(row)
    s.flush()
    return row


def get_customer(s: Session, customer_id: str, param: str = "id") -> EmulatorCustomer:
    """A Customer that was not deleted, or Stripe's 404."""
    row = fetch(s, EmulatorCustomer.id, customer_id, "customer", param)
    if row.deleted:
        raise errors.no_such("customer", customer_id, param)
    return row


def delete_customer(s: Session, customer_id: str) -> dict[str, Any]:
    """Delete a Customer: its cards are detached; Stripe's deleted object."""
    row = get_customer(s, customer_id)
    row.deleted = True
    s.execute(
        update(EmulatorPaymentMethod)
        .where(EmulatorPaymentMethod.customer == customer_id)
        .values(customer=None)
        .execution_options(synchronize_session=False)
    )
    return {"id": row.id, "object": "customer", "deleted": True}


def customer(row: EmulatorCustomer) -> dict[str, Any]:
    """A `customer` object."""
    return {
        "id": row.id, "object": "customer", "address": None, "balance": 0,
        "business_name": None, "cash_balance": None, "created": row.created, "currency": None,
        "customer_account": None, "default_source": None, "delinquent": False,
        "description": None, "discount": None, "email": row.email, "individual_name": None,
        "invoice_prefix": row.id[-8:].upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                             "footer": None, "rendering_options": None},
        "livemode": False, "metadata": dict(row.meta), "name": row.name,
        "next_invoice_sequence": 1, "phone": None, "preferred_locales": [], "shipping": None,
        "tax": None, "tax_exempt": "none", "test_clock": None,
    }  # fmt: skip


def save_card(s: Session, customer_id: str, number: str, now: int) -> EmulatorPaymentMethod:
    """Attach the card just paid with to the customer, as a PaymentMethod."""
    month, year = EXPIRES
    row = EmulatorPaymentMethod(
        id=shapes.new_id("pm_"), customer=customer_id, brand=BRANDS.get(number, "visa"),
        last4=number[-4:], exp_month=month, exp_year=year, created=now,
    )  # fmt: skip
    s.add(row)
    s.flush()
    return row


def get_payment_method(s: Session, pm_id: str, param: str = "id") -> EmulatorPaymentMethod:
    """A PaymentMethod, or Stripe's 404."""
    return fetch(s, EmulatorPaymentMethod.id, pm_id, "PaymentMethod", param)


def saved_cards(s: Session, customer_id: str | None) -> list[EmulatorPaymentMethod]:
    """The cards attached to a customer, newest first."""
    if not customer_id:
        return []
    stmt = select(EmulatorPaymentMethod).where(EmulatorPaymentMethod.customer == customer_id)
    return list(s.scalars(stmt.order_by(EmulatorPaymentMethod.pk.desc())))


def detach(s: Session, pm_id: str) -> EmulatorPaymentMethod:
    """Detach a card from its customer; one not attached is Stripe's 400."""
    get_payment_method(s, pm_id)  # 404 for an unknown id
    # Lock: guarded UPDATE ... WHERE customer IS NOT NULL; a card is detached once.
    changed = s.execute(
        update(EmulatorPaymentMethod)
        .where(EmulatorPaymentMethod.id == pm_id, EmulatorPaymentMethod.customer.is_not(None))
        .values(customer=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise errors.ApiError(
            "The payment method you provided is not attached to a customer so detachment "
            "is impossible."
        )
    return get_payment_method(s, pm_id)


def list_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate `GET /v1/customers/{id}/payment_methods`."""
    only(params, PAGE | {"type", "expand", "allow_redisplay"})
    return page(params)


def list_payment_methods(s: Session, customer_id: str, query: dict) -> tuple[list, bool]:
    """A page of a customer's cards, newest first."""
    get_customer(s, customer_id)
    stmt = select(EmulatorPaymentMethod).where(EmulatorPaymentMethod.customer == customer_id)

    def cursor(pm_id: str, param: str) -> tuple:
        """The position of the card a cursor names."""
        return (get_payment_method(s, pm_id, param).pk,)

    return keyset_page(s, stmt, (EmulatorPaymentMethod.pk,), cursor, query)


def payment_method(row: EmulatorPaymentMethod) -> dict[str, Any]:
    """A `payment_method` object of type card."""
    body: dict[str, Any] = dict.fromkeys(OTHER_TYPES)
    body.update({
        "id": row.id, "object": "payment_method", "allow_redisplay": "always",
        "billing_details": {"address": None, "email": None, "name": None, "phone": None,
                            "tax_id": None},
        "card": {
            "brand": row.brand, "checks": None, "country": "US", "description": None,
            "display_brand": row.brand, "exp_month": row.exp_month, "exp_year": row.exp_year,
            "fingerprint": None, "funding": "credit", "generated_from": None, "iin": None,
            "issuer": None, "last4": row.last4, "networks": None, "regulated_status": None,
            "three_d_secure_usage": None, "wallet": None,
        },
        "created": row.created, "customer": row.customer, "customer_account": None,
        "livemode": False, "metadata": {}, "radar_options": None, "type": "card",
    })  # fmt: skip
    return body
