"""Shipping an order: the admin's action, through the lifecycle, in one transaction.

The carrier and tracking number arrive checked (`shop.admin.forms`); this module decides
whether the order may ship and says why not.
"""

from dataclasses import dataclass

from flask_babel import gettext as _

from ..extensions import db
from . import lifecycle, notices
from .lifecycle import Origin
from .models import Order, Source


class OrderNotFound(LookupError):
    """No order has that id."""


class NotShippable(ValueError):
    """The order is not paid (or is wholly refunded): nothing leaves for it."""

    def __init__(self, order: Order):
        super().__init__(
            _(
                "Order #%(id)s is %(status)s: only paid or partly refunded orders can ship. "
                "Nothing was changed.",
                id=order.id,
                status=order.status.replace("_", " "),
            )
        )
        self.order = order


class DisputedShipment(ValueError):
    """The order's payment is disputed: it ships only when the admin confirms."""

    def __init__(self, order: Order):
        super().__init__(
            _(
                "Order #%(id)s is disputed (%(dispute)s): the customer's bank may take the "
                'money back. Tick "Ship despite the dispute" to ship it anyway. Nothing was '
                "changed.",
                id=order.id,
                dispute=order.dispute,
            )
        )
        self.order = order


class AddresslessShipment(ValueError):
    """The order has no shipping address (placed before addresses were collected): it ships
    only when the admin confirms they know where it goes."""

    def __init__(self, order: Order):
        super().__init__(
            f'Order #{order.id} has no shipping address. Tick "Ship without an address" if '
            "you know where it goes (ask the customer first). Nothing was changed."
        )
        self.order = order


@dataclass(frozen=True)
class Shipment:
    """What a request to ship came to: the order as it stands, and whether it shipped now
    (False: it had already shipped, and nothing changed)."""

    order: Order
    shipped_now: bool


def ship_order(
    order_id: int,
    admin_id: int,
    carrier: str = "",
    tracking_number: str = "",
    disputed_ok: bool = False,
    addressless_ok: bool = False,
) -> Shipment:
    """Ship the order once, recorded as the admin's action, and owe the customer a
    shipping notice (sent by the worker); a second request changes nothing.

    `OrderNotFound` for an unknown id, `NotShippable` for an order that is not paid,
    `DisputedShipment` for a disputed one without `disputed_ok`, `AddresslessShipment` for
    one without an address and without `addressless_ok`.
    """
    origin = Origin(Source.ADMIN, actor_id=admin_id)
    shipped = lifecycle.ship(
        order_id, origin, carrier, tracking_number, disputed_ok, addressless_ok
    )
    if shipped:
        order = db.session.get(Order, order_id)
        notices.enqueue_shipping_notice(order, carrier=carrier, tracking_number=tracking_number)
    db.session.commit()  # the shipment, its timeline entry and its email, together
    order = db.session.get(Order, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    if not shipped and not order.is_shipped:
        if order.can_ship and order.dispute in lifecycle.DISPUTED and not disputed_ok:
            raise DisputedShipment(order)
        if order.can_ship and order.shipping_address is None:
            raise AddresslessShipment(order)
        raise NotShippable(order)
    return Shipment(order, shipped)
