"""`POST /cart/promotion` and `DELETE /cart/promotion`: a code on the customer's cart.

Both answer with the cart dialog (htmx: its blocks; a plain form: the page with it open).
A refused code is a 422 whose message says why and carries the reason (`data-reason`).
Without JavaScript a form cannot send DELETE: `POST /cart/promotion` with `remove=on`
takes the code off, as setting a line's quantity to 0 removes it.
"""

from flask import Blueprint, current_app, flash, redirect, url_for
from flask import request as incoming
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import currencies
from ..cart.services import load_cart
from ..htmx import hx_trigger, is_htmx
from ..pages import CART, with_dialog
from . import services

bp = Blueprint("promotions", __name__)

#: The event the cart's other listeners hear after a change (as the cart's own routes).
CHANGED_EVENT = "cart-changed"


@bp.app_context_processor
def promotion_globals() -> dict:
    """`cart_promotion(cart)`: the cart's code and what it takes off; `tax_note()`."""
    return {"cart_promotion": _cart_promotion, "tax_note": _tax_note}


def _cart_promotion(cart) -> services.Applied | None:
    """The signed-in customer's code on this cart (None for visitors or without one)."""
    if not current_user.is_authenticated or cart.is_empty:
        return None
    return services.applied(current_user.id, cart.code, cart.currency, cart.subtotal_cents)


def _tax_note() -> str:
    """What the cart says of tax: included in the prices, added at checkout, or nothing."""
    config = current_app.config
    if config["STRIPE_AUTOMATIC_TAX"]:
        return _("Tax is worked out at checkout from your address.")
    if config["TAX_RATE"] is None:
        return ""
    rate = f"{config['TAX_NAME']} {config['TAX_RATE'].normalize():f}%"
    if config["TAX_INCLUSIVE"]:
        return _("Prices include %(rate)s.", rate=rate)
    return _("%(rate)s is added at checkout.", rate=rate)


@bp.post("/cart/promotion")
@login_required
def apply():
    """Apply `code` to the cart; 422 with the reason it does not apply (or `remove=on`)."""
    if incoming.form.get("remove") == "on":
        return remove()
    cart = load_cart(current_user.id, currencies.current())
    code = incoming.form.get("code") or ""
    if cart.is_empty:
        return with_dialog(CART, _("Add something to your cart before a code."), "error", 422)
    try:
        promotion = services.apply(current_user.id, code, cart.currency, cart.subtotal_cents)
    except services.CodeRefused as refused:
        return _refused(str(refused), refused.reason, code)
    except services.PromotionError as error:
        return _refused(str(error), "invalid", code)
    except services.CodesUnavailable:
        message = _("Codes cannot be checked right now; try again in a moment.")
        return _refused(message, "unavailable", code, 503)
    return _changed(_("Code %(code)s applied.", code=promotion.code))


@bp.delete("/cart/promotion")
@login_required
def remove():
    """Take the code off the cart (none there is fine)."""
    services.remove(current_user.id)
    return _changed(_("Code removed."))


def _changed(message: str):
    """The cart with the change said (htmx), or a 303 to the page with the cart open."""
    if not is_htmx():
        flash(message, "success")
        response = redirect(url_for("cart.show"), 303)
        response.vary.add("HX-Request")
        return response
    return hx_trigger(with_dialog(CART, message, announcement=message), CHANGED_EVENT)


def _refused(message: str, reason: str, code: str, status: int = 422):
    """The cart with why the code does not apply beside its field, the code still typed."""
    return with_dialog(
        CART, None, "error", status,
        promotion_message=message, promotion_reason=reason, promotion_typed=code[:40],
    )  # fmt: skip
