"""`/cart` and `/cart/items...`: the cart modal and its line changes, for htmx or plain forms.

htmx gets fragments (the modal body or a product card's note) with the header badge out of
band and a `cart-changed` event; plain form posts get a 303 to the page with the cart open.
"""

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from .. import pages
from ..htmx import hx_trigger, is_htmx, render
from . import forms, services

bp = Blueprint("cart", __name__)

PAGE = "cart/cart.html"
#: The event other parts of the page can listen for after any cart change.
CHANGED_EVENT = "cart-changed"
#: How a refusal is answered: the product is gone (404), or the input is not acceptable (422).
REFUSAL_STATUS = {
    services.ProductUnavailable: 404,
    services.LineMissing: 404,
    services.SoldOut: 409,
}


def _max_quantity() -> int:
    """The configured most units per line."""
    return current_app.config["CART_MAX_QUANTITY"]


def _status(error: Exception) -> int:
    """The HTTP status of a refused change."""
    return REFUSAL_STATUS.get(type(error), 422)


@bp.app_context_processor
def cart_globals() -> dict:
    """`cart_count()` for the header badge and `current_cart()` for the cart dialog."""
    return {"cart_count": _cart_count, "current_cart": _current_cart}


def _cart_count() -> int:
    """Units in the signed-in customer's cart (0 for visitors)."""
    return services.count_units(current_user.id) if current_user.is_authenticated else 0


def _current_cart() -> services.Cart:
    """The signed-in customer's cart."""
    return services.load_cart(current_user.id)


def render_cart(
    cart: services.Cart | None = None,
    message: str | None = None,
    message_kind: str = "success",
    status: int = 200,
):
    """The cart body and the badge (out of band) for htmx; the page with the cart open else."""
    cart = services.load_cart(current_user.id) if cart is None else cart
    return pages.with_dialog(pages.CART, message, message_kind, status, cart=cart)


def _changed(cart: services.Cart, message: str):
    """After a change: the new cart (htmx, with the event) or a 303 to the cart page."""
    if not is_htmx():
        flash(message, "success")
        response = redirect(url_for("cart.show"), 303)
        response.vary.add("HX-Request")  # htmx gets a fragment from the same URL
        return response
    return hx_trigger(render_cart(cart), CHANGED_EVENT)


def _added_note(cart: services.Cart, product_id: int) -> str:
    """The confirmation of an add, saying when the line reached the maximum."""
    line = cart.line_for(product_id)
    if line is None:  # removed again by a concurrent request: say what is true now
        return "Added to your cart."
    note = f"Added. You have {line.quantity} × {line.product.name} in your cart"
    if line.units_left is not None and line.quantity >= line.units_left:
        return f"{note}: only {line.units_left} left, so that is all you can have."
    if line.quantity >= _max_quantity():
        return f"{note}, the most one order can hold."
    return f"{note}."


@bp.get("/cart")
@login_required
def show():
    """The cart: modal body for htmx, the page with the cart open otherwise."""
    return render_cart()


@bp.post("/cart/items")
@login_required
def add_item():
    """Add `quantity` (1 when absent) of a product; a line past the maximum is capped at it."""
    try:
        product_id = forms.product_id(request.form)
        quantity = forms.quantity(request.form, low=1, high=_max_quantity(), default=1)
        cart = services.add_item(current_user.id, product_id, quantity, _max_quantity())
    except (forms.InvalidInput, services.CartError) as error:
        if not is_htmx():
            return render_cart(message=str(error), message_kind="error", status=_status(error))
        return render(PAGE, ["add_note"], status=_status(error), note=str(error), note_error=True)
    note = _added_note(cart, product_id)
    if not is_htmx():
        return _changed(cart, note)
    response = render(PAGE, ["add_note", "cart_badge"], note=note, cart=cart, oob=True)
    return hx_trigger(response, CHANGED_EVENT)


@bp.post("/cart/items/<int:product_id>")
@login_required
def set_quantity(product_id: int):
    """Set a line's quantity; 0 removes the line."""
    try:
        quantity = forms.quantity(request.form, low=0, high=_max_quantity())
        cart = services.set_quantity(current_user.id, product_id, quantity)
    except (forms.InvalidInput, services.CartError) as error:
        return render_cart(message=str(error), message_kind="error", status=_status(error))
    return _changed(cart, "Your cart is updated.")


@bp.delete("/cart/items/<int:product_id>")
@login_required
def remove_item(product_id: int):
    """Remove a line; removing it twice is fine."""
    cart = services.remove_item(current_user.id, product_id)
    return _changed(cart, "Removed from your cart.")
