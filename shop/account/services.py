"""What a customer may do with their own account: take their data, delete the account.

Deleting keeps the orders (the law asks a shop to keep its sales records for years) but
nothing that names the customer: the account row stays, emptied, for the orders to point
at; the email becomes `deleted-<id>@deleted.invalid`, the password unusable, every session
ended, the cart emptied. Stripe keeps its own copy of the email given at checkout, as
Stripe's own records; the shop has no other.
"""

from typing import Any

from ..auth.models import User, new_session_token
from ..cart import services as cart
from ..extensions import db
from ..models import utcnow
from ..orders import services as orders

#: Where a deleted account's address goes: `.invalid` can never receive mail (RFC 2606).
DELETED_EMAIL = "deleted-{id}@deleted.invalid"


def export(user: User) -> dict[str, Any]:
    """Everything the shop holds about `user`, as JSON-ready data: the account and orders."""
    return {
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
    """Delete the customer's account, keeping their orders anonymised (see the module)."""
    cart.forget_cart(user.id)
    user.email = DELETED_EMAIL.format(id=user.id)
    user.password_hash = ""  # matches no password: werkzeug refuses a hash without a method
    user.session_token = new_session_token()
    user.is_admin = False
    user.deleted_at = utcnow()
    db.session.commit()
