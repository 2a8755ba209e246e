"""What a customer may do with their own account: see and remove saved cards, take their
data, delete the account.

Deleting keeps the orders (the law asks a shop to keep its sales records for years) but
nothing that names the customer: the account row stays, emptied, for the orders to point
at; the email becomes `deleted-<id>@deleted.invalid`, the password unusable, every session
ended, the cart and favourites emptied, and the account's Stripe Customer deleted (which
detaches every saved card); if Stripe cannot be reached, nothing is deleted and the customer
is told to try again, so no card stays saved for an account that is gone. Stripe keeps its
own records of past payments, as the law asks of it too.
"""

from typing import Any

from .. import payments
from ..auth import tokens
from ..auth.models import User, live_customer, new_session_token
from ..cart import services as cart
from ..extensions import db
from ..favourites import services as favourites
from ..models import utcnow
from ..orders import services as orders

#: Where a deleted account's address goes: `.invalid` can never receive mail (RFC 2606).
DELETED_EMAIL = "deleted-{id}@deleted.invalid"


class CardsUnavailable(Exception):
    """Stripe, which keeps the saved cards, could not be reached."""


def saved_cards(user: User) -> list[payments.SavedCard]:
    """The cards saved on the account's Stripe Customer (none before a first checkout)."""
    customer_id = live_customer(user.stripe_customer_id)
    if not customer_id:
        return []
    db.session.rollback()  # no connection held while Stripe answers
    try:
        return payments.saved_cards(customer_id)
    except payments.PaymentsError:
        raise CardsUnavailable() from None


def remove_card(user: User, pm_id: str) -> bool:
    """Detach one of the account's cards at Stripe; False if it is not one of theirs."""
    customer_id = live_customer(user.stripe_customer_id)
    if not customer_id or not pm_id.isascii() or len(pm_id) > 255:
        return False
    db.session.rollback()
    try:
        return payments.remove_card(customer_id, pm_id)
    except payments.PaymentsRejected:
        return False
    except payments.PaymentsError:
        raise CardsUnavailable() from None


def export(user: User) -> dict[str, Any]:
    """Everything the shop holds about `user`, as JSON-ready data: the account, orders,
    favourites, API tokens (names and prefixes) and saved cards (brand and last 4 only).
    `CardsUnavailable` when Stripe, which keeps the cards, cannot be asked."""
    cards = saved_cards(user)
    liked = favourites.listing(user.id, "usd")
    return {
        "favourites": [{"sku": item.sku, "name": item.name} for item in liked],
        "saved_cards": [{"brand": card.brand, "last4": card.last4} for card in cards],
        "api_tokens": [
            {
                "name": token.name,
                "prefix": token.prefix,  # the token itself is not kept, only its hash
                "created_at": token.created_at.isoformat(),
                "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
                "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
            }
            for token in tokens.list_tokens(user.id)
        ],
        "exported_at": utcnow().isoformat(),
        "account": {
            "email": user.email,
            "created_at": user.created_at.isoformat(),
            "admin": user.is_admin,
        },
        "orders": [
            {
                "id": order.id,
                "status": order.status,
                "currency": order.currency,
                "total_cents": order.total_cents,
                "created_at": order.created_at.isoformat(),
                "paid_at": order.paid_at.isoformat() if order.paid_at else None,
                "items": [
                    {
                        "name": item.name,
                        "unit_price_cents": item.unit_price_cents,
                        "quantity": item.quantity,
                    }
                    for item in order.items
                ],
            }
            for order in orders.list_orders(user.id)
        ],
    }


def delete_account(user: User) -> None:
    """Delete the customer's account, keeping their orders anonymised (see the module);
    `CardsUnavailable` (nothing deleted) when Stripe cannot delete the saved cards."""
    customer_id = live_customer(user.stripe_customer_id)
    if customer_id:
        db.session.rollback()
        try:
            payments.delete_customer(customer_id)
        except payments.PaymentsError:
            raise CardsUnavailable() from None
    user.stripe_customer_id = None
    cart.forget_cart(user.id)
    favourites.forget(user.id)
    tokens.revoke_all(user.id)
    user.email = DELETED_EMAIL.format(id=user.id)
    user.password_hash = ""  # matches no password: werkzeug refuses a hash without a method
    user.session_token = new_session_token()
    user.is_admin = False
    user.deleted_at = utcnow()
    db.session.commit()
