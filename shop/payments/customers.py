"""Stripe Customers for shop accounts, and the cards saved on them, in the shop's terms.

Each account gets one Customer, made on its first checkout: every request that needs it
asks Stripe with the same idempotency key (the installation's own random salt and the
account's id), so parallel first checkouts get the one Customer Stripe made; the caller
stores its id on the account with a guarded UPDATE, and never asks again.
"""

import hashlib
import secrets
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from . import gateway, installation


@dataclass(frozen=True)
class SavedCard:
    """A card a customer saved at checkout: what the account page shows of it."""

    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


def make_customer(account_id: int, email: str, replacing: str | None = None) -> str:
    """The id of the account's Customer at Stripe, made now or by a racing request;
    `replacing` names what the account held before (a Customer Stripe no longer has), so
    the replacement gets a key of its own."""
    salt = installation.installation_secret("customer_key_salt", lambda: secrets.token_hex(16))
    key = f"customer-{salt}-{account_id}"
    if replacing:
        key += "-" + hashlib.sha256(replacing.encode()).hexdigest()[:16]
    created = gateway.create_customer(
        {"email": email, "metadata": {"account_id": str(account_id)}}, idempotency_key=key
    )
    return created["id"]


def _card(data: dict[str, Any]) -> SavedCard | None:
    """A card PaymentMethod as the shop shows it (None for another kind)."""
    card = data.get("card") if isinstance(data.get("card"), dict) else None
    if card is None or not isinstance(data.get("id"), str):
        return None
    return SavedCard(
        id=data["id"],
        brand=str(card.get("brand") or "card"),
        last4=str(card.get("last4") or "")[:4],
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
    )


def saved_cards(customer_id: str) -> list[SavedCard]:
    """The cards saved on a Customer."""
    found = (_card(pm) for pm in gateway.list_customer_payment_methods(customer_id))
    return [card for card in found if card is not None]


def remove_card(customer_id: str, pm_id: str) -> bool:
    """Detach one of the Customer's cards; False when it is not theirs (or unknown)."""
    try:
        found = gateway.retrieve_payment_method(pm_id)
    except gateway.SessionNotFound:  # resource_missing: no such card
        return False
    owner = found.get("customer")
    if isinstance(owner, dict):
        owner = owner.get("id")
    if owner != customer_id:
        return False
    gateway.detach_payment_method(pm_id)
    return True


def delete_customer(customer_id: str) -> None:
    """Delete a Customer and with it every card saved on it (an account being deleted)."""
    with suppress(gateway.SessionNotFound):  # gone already: nothing is left to delete
        gateway.delete_customer(customer_id)
