"""`/cart` and `/cart/items...`: the cart modal and its line changes, for htmx or plain forms.

htmx gets fragments (the modal body or a product card's note) with the header badge out of
band and a `cart-changed` event; plain form posts get a 303 to the page with the cart open.
"""

from dataclasses import dataclass

from flask import Blueprint, Response, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from .. import pages
from ..htmx import hx_trigger, is_htmx
from ..money import format_money
from . import forms, services

bp = Blueprint("cart", __name__)

PAGE = "cart/cart.html"
#: The template defining the header badge's block (the page's base).
BADGE_TEMPLATE = "base.html"
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


@dataclass(frozen=True)
class _Badge:
    """What the badge block reads of the cart: its unit count."""

    count: int


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
    announcement: str = "",
):
    """The cart body, the badge (out of band) and the dialog's live region for htmx; the
    page with the cart open else."""
    cart = services.load_cart(current_user.id) if cart is None else cart
    return pages.with_dialog(
        pages.CART, message, message_kind, status, cart=cart, announcement=announcement
    )


def _holds(cart: services.Cart | services.Added) -> str:
    """What the badge and the subtotal say, as one sentence for a screen reader."""
    if cart.is_empty:
        return "Your cart is empty."
    items = "1 item" if cart.count == 1 else f"{cart.count} items"
    return f"Your cart holds {items}; subtotal {format_money(cart.subtotal_cents, cart.currency)}."


def _changed(cart: services.Cart, message: str):
    """After a change: the new cart (htmx, with the event, and the change said in the
    dialog's live region) or a 303 to the cart page."""
    if not is_htmx():
        flash(message, "success")
        return _see_cart()
    return hx_trigger(render_cart(cart, announcement=f"{message} {_holds(cart)}"), CHANGED_EVENT)


def _see_cart():
    """The 303 to the page with the cart open that answers a plain form's change."""
    response = redirect(url_for("cart.show"), 303)
    response.vary.add("HX-Request")  # htmx gets a fragment from the same URL
    return response


def _added_note(added: services.Added) -> str:
    """The confirmation of an add, saying when the line reached the maximum, and what the
    badge now counts (the note is the card's live region; the badge is not one)."""
    if added.quantity is None:  # removed again by a concurrent request: say what is true now
        return f"Added to your cart. {_holds(added)}"
    note = f"Added. You have {added.quantity} × {added.name} in your cart"
    if added.units_left is not None and added.quantity >= added.units_left:
        return f"{note}: only {added.units_left} left, so that is all you can have."
    if added.quantity >= _max_quantity():
        note = f"{note}, the most one order can hold"
    return f"{note}. {_holds(added)}"


def _removed(cart: services.Cart) -> str:
    """What a removal says: which product went, when this request took it out."""
    if cart.removed is None:
        return "Removed from your cart."
    return f"Removed {cart.removed} from your cart."


def _note_fragment(
    note: str, count: int | None = None, status: int = 200, error: bool = False
) -> Response:
    """A product card's note (block `add_note`), with the header badge out of band when the
    cart changed (`count`). The two blocks are rendered straight from their templates in
    one plain context: no context processors, no block lookup, no page (a few µs, not the
    ~0.3 ms of `render`); the blocks need only what is passed here.
    """
    env = current_app.jinja_env
    context = {"note": note, "note_error": error, "oob": True}
    if count is not None:
        context["cart"] = _Badge(count)
    page = env.get_template(PAGE)
    body = "".join(page.blocks["add_note"](page.new_context(context)))
    if count is not None:
        base = env.get_template(BADGE_TEMPLATE)
        body += "".join(base.blocks["cart_badge"](base.new_context(context)))
    response = make_response(body, status)
    response.vary.add("HX-Request")  # a plain form post gets a redirect from the same URL
    return response


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
        added = services.add_item(current_user.id, product_id, quantity, _max_quantity())
    except (forms.InvalidInput, services.CartError) as error:
        if not is_htmx():
            return render_cart(message=str(error), message_kind="error", status=_status(error))
        return _note_fragment(str(error), status=_status(error), error=True)
    note = _added_note(added)
    if not is_htmx():
        flash(note, "success")
        return _see_cart()
    return hx_trigger(_note_fragment(note, count=added.count), CHANGED_EVENT)


@bp.post("/cart/items/<int:product_id>")
@login_required
def set_quantity(product_id: int):
    """Set a line's quantity; 0 removes the line."""
    try:
        quantity = forms.quantity(request.form, low=0, high=_max_quantity())
        cart = services.set_quantity(current_user.id, product_id, quantity)
    except (forms.InvalidInput, services.CartError) as error:
        return render_cart(message=str(error), message_kind="error", status=_status(error))
    return _changed(cart, _removed(cart) if quantity == 0 else "Your cart is updated.")


@bp.delete("/cart/items/<int:product_id>")
@login_required
def remove_item(product_id: int):
    """Remove a line; removing it twice is fine."""
    cart = services.remove_item(current_user.id, product_id)
    return _changed(cart, _removed(cart))
