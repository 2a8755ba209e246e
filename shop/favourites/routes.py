"""`POST /favourites` (toggle a product's heart) and `GET /favourites` (the Favourites
modal), and `POST /favourites/<product_id>/cart` ("Move to cart").

htmx gets the heart button back (toggle) or the modal's body; plain forms get a 303 back
to the page they came from, or the page with the modal open. Visitors are sent to log in.
"""

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import currencies, languages
from ..cart import forms
from ..cart import services as cart
from ..htmx import hx_trigger, is_htmx, render
from ..pages import FAVOURITES, with_dialog
from ..urls import safe_next
from . import services

bp = Blueprint("favourites", __name__)

#: The event the cart listens for after a change (the header badge follows it).
CART_CHANGED = "cart-changed"


@bp.app_context_processor
def favourites_globals() -> dict:
    """`my_favourites()` for the modal's body."""
    return {
        "my_favourites": lambda: services.listing(
            current_user.id, currencies.current(), languages.current()
        ),
        "is_favourite": lambda product_id: services.is_favourite(current_user.id, product_id),
    }


@bp.get("/favourites")
@login_required
def show():
    """The Favourites modal: its body for htmx, the page with it open otherwise."""
    return with_dialog(FAVOURITES)


@bp.post("/favourites")
@login_required
def toggle():
    """Add `product_id` to the favourites, or take it off: htmx gets the pressed (or
    released) heart, a plain form a 303 back to where it was pressed."""
    try:
        product_id = forms.product_id(request.form)
        now = services.toggle(current_user.id, product_id)
    except forms.InvalidInput as error:
        abort(422, str(error))
    except services.NoSuchProduct:
        abort(404, _("That product does not exist."))
    name = services.name_of(product_id)
    if now:
        said = _("%(name)s added to your favourites.", name=name)
    else:
        said = _("%(name)s removed from your favourites.", name=name)
    if not is_htmx():
        flash(said, "success")
        return redirect(safe_next(request.form.get("next")), 303)
    if request.form.get("from") == "list":
        return with_dialog(FAVOURITES, said)
    return render(
        "favourites/heart.html", ["heart"], product_id=product_id, favourite=now, name=name,
        said=said,
    )  # fmt: skip


@bp.post("/favourites/<int:product_id>/cart")
@login_required
def move_to_cart(product_id: int):
    """Put one of a favourite in the cart (the cart's rules apply); it stays a favourite."""
    most = current_app.config["CART_MAX_QUANTITY"]
    try:
        added = services.move_to_cart(
            current_user.id, product_id, most, currencies.current(), languages.current()
        )
    except cart.CartError as error:
        return with_dialog(FAVOURITES, str(error), "error", 409 if isinstance(
            error, cart.SoldOut | cart.NotSoldIn) else 404)  # fmt: skip
    said = _("%(name)s is in your cart (%(num)d in all).", name=added.name, num=added.quantity)
    if not is_htmx():
        flash(said, "success")
        return redirect(url_for("favourites.show"), 303)
    return hx_trigger(with_dialog(FAVOURITES, said), CART_CHANGED)
