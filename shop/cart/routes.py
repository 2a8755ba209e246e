"""`/cart` and `/cart/items...`: the cart modal and its line changes, for htmx or plain forms.

htmx gets fragments (the modal body or a product card's note) with the header badge out of
band and a `cart-changed` event; plain form posts get a 303 to the page with the cart open.
"""

from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    get_flashed_messages,
    get_template_attribute,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, user_logged_in

from .. import currencies, fragments, languages, pages
from ..auth import services as auth_services
from ..auth import sessions
from ..extensions import reads_only
from ..htmx import hx_trigger, is_htmx
from ..money import format_money
from . import forms, guest, services

bp = Blueprint("cart", __name__)

PAGE = "cart/cart.html"
#: The template defining each block the cart's htmx answers render alone: the cart page's
#: own, and the page shell's header badge and cart dialog live region (tests/test_cart.py
#: checks the answers against `htmx.render`, which looks the templates up).
BLOCK_TEMPLATES = {
    "cart_body": PAGE,
    "add_note": PAGE,
    "cart_badge": "base.html",
    "cart_status": "base.html",
}
#: The event other parts of the page can listen for after any cart change.
CHANGED_EVENT = "cart-changed"


def _max_quantity() -> int:
    """The configured most units per line."""
    return current_app.config["CART_MAX_QUANTITY"]


@dataclass(frozen=True)
class _Badge:
    """What the badge block reads of the cart: its unit count."""

    count: int


def _status(error: Exception) -> int:
    """The HTTP status of a refused change (the same for the JSON API)."""
    return services.refusal_status(error)


@bp.app_template_global("cart_line_html")
def cart_line_html(line: services.CartLine, csrf: str, max_quantity: int) -> str:
    """One line of the cart dialog (`cart/_line.html`), kept in `shop.fragments`: the slot
    is the session's CSRF token (which the line's forms carry) and the product; the version
    is the line as read now and everything else it shows, in the language written now."""
    version = (line, max_quantity, languages.formatting(), request.script_root)

    def render() -> str:
        return get_template_attribute("cart/_line.html", "cart_line")(line, csrf, max_quantity)

    return fragments.kept(("cart-line", csrf, line.product.id), version, render)


@bp.app_context_processor
def cart_globals() -> dict:
    """`cart_count()` for the header badge and `current_cart()` for the cart dialog."""
    return {"cart_count": _cart_count, "current_cart": _current_cart}


def _cart_count() -> int:
    """Units in the signed-in customer's cart, or in the visitor's (from their cookie)."""
    if current_user.is_authenticated:
        return services.count_units(current_user.id)
    return guest.count(session.get(guest.SESSION_KEY))


def visitor_units() -> int:
    """Units in the visitor's cart, read from their session (no query)."""
    return guest.count(session.get(guest.SESSION_KEY))


def _current_cart() -> services.Cart:
    """The signed-in customer's cart, or the visitor's."""
    if not current_user.is_authenticated:
        return guest.load(session.get(guest.SESSION_KEY), currencies.current())
    return services.load_cart(current_user.id, currencies.current(), languages.current())


def _keep_guest(changed: guest.Changed) -> None:
    """Write the visitor's cart back to their session (dropped when empty)."""
    if changed.value is None:
        session.pop(guest.SESSION_KEY, None)
    else:
        session[guest.SESSION_KEY] = changed.value


def init_guest_carts(app) -> None:
    """A visitor's cart survives the fresh session of a login, and is merged into the
    account's cart as the customer logs in or registers (the visitor's cart is then empty)."""
    auth_services.keep_at_login(guest.SESSION_KEY)
    user_logged_in.connect(_merge_guest_cart, app)


def _merge_guest_cart(app, user, **_extra) -> None:
    """Add the visitor's lines to the account's cart, and say what could not be added."""
    kept = session.pop(guest.SESSION_KEY, None)
    if not guest.lines_of(kept):
        return
    notes = guest.merge(kept, user.id, app.config["CART_MAX_QUANTITY"], currencies.current())
    message = _("The cart you filled before logging in is in your cart now.")
    flash(" ".join([message, *notes]), "warning" if notes else "success")


def render_cart(
    cart: services.Cart | None = None,
    message: str | None = None,
    message_kind: str = "success",
    status: int = 200,
    announcement: str = "",
):
    """The cart body, the badge (out of band) and the dialog's live region for htmx; the
    page with the cart open else."""
    cart = _current_cart() if cart is None else cart
    if not is_htmx():
        return pages.with_dialog(
            pages.CART, message, message_kind, status, cart=cart, announcement=announcement
        )
    # What pages.with_dialog gives the cart's blocks, rendered in one context.
    context = {
        "open_dialog": pages.CART.name,
        "message": message,
        "message_kind": message_kind,
        "oob": True,
        "cart": cart,
        "announcement": announcement,
    }
    current_app.update_template_context(context)
    return _render_blocks(pages.CART.blocks, context, status)


def _holds(cart: services.Cart | services.Added) -> str:
    """What the badge and the subtotal say, as one sentence for a screen reader."""
    if cart.is_empty:
        return _("Your cart is empty.")
    subtotal = format_money(cart.subtotal_cents, cart.currency)
    return ngettext(
        "Your cart holds %(num)d item; subtotal %(subtotal)s.",
        "Your cart holds %(num)d items; subtotal %(subtotal)s.",
        cart.count,
        subtotal=subtotal,
    )


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
    had = {"num": added.quantity, "name": added.name}
    if added.units_left is not None and added.quantity >= added.units_left:
        return _("Added. You have %(num)d × %(name)s in your cart: only %(left)d left, so that "
                 "is all you can have.", left=added.units_left, **had)  # fmt: skip
    if added.quantity >= _max_quantity():
        note = _("Added. You have %(num)d × %(name)s in your cart, the most one order can hold.",
                 **had)  # fmt: skip
    else:
        note = _("Added. You have %(num)d × %(name)s in your cart.", **had)
    return f"{note} {_holds(added)}"


def _removed(cart: services.Cart) -> str:
    """What a removal says: which product went, when this request took it out."""
    if cart.removed is None:
        return _("Removed from your cart.")
    return _("Removed %(name)s from your cart.", name=cart.removed)


def _note_fragment(
    note: str, count: int | None = None, status: int = 200, error: bool = False
) -> Response:
    """A product card's note (block `add_note`), with the header badge out of band when the
    cart changed (`count`). A plain context: the two blocks need only what is given here,
    so no context processor runs."""
    context = {"note": note, "note_error": error, "oob": True}
    if count is None:
        return _render_blocks(["add_note"], context, status)
    return _render_blocks(["add_note", "cart_badge"], {**context, "cart": _Badge(count)}, status)


def _render_blocks(names: list[str] | tuple[str, ...], context: dict, status: int) -> Response:
    """The named blocks, one after another, in one template context, each straight from the
    template defining it (`BLOCK_TEMPLATES`).

    `htmx.render` answers the same, but runs the context processors and looks the block's
    template up once per block: ~0.3 ms more for three blocks, a tenth of the request.
    """
    env = current_app.jinja_env
    template_context = None
    parts = []
    for name in names:
        template = env.get_template(BLOCK_TEMPLATES[name])
        if template_context is None:
            template_context = template.new_context(context)
        parts.append("".join(template.blocks[name](template_context)))
    response = make_response("".join(parts), status)
    response.vary.add("HX-Request")  # the page answers the same URL without htmx
    return response


@bp.get("/cart")
@reads_only
def show():
    """The cart: modal body for htmx, the page with the cart open otherwise; what a plain
    form's change (or a login's merge) flashed is said in the dialog, not behind it."""
    if not is_htmx():
        flashed = get_flashed_messages(with_categories=True)
        if flashed:
            kind = "warning" if any(c in ("warning", "error") for c, _ in flashed) else "success"
            return render_cart(message=" ".join(m for _, m in flashed), message_kind=kind)
    return render_cart()


# The add locks the customer's row (`services._lock_cart`): read the user so to begin with.
sessions.lock_user_row_on("cart.add_item")


@bp.post("/cart/items")
def add_item():
    """Add `quantity` (1 when absent) of a product; a line past the maximum is capped at it.
    A visitor's cart is kept in their session, by the same rules."""
    try:
        product_id = forms.product_id(request.form)
        quantity = forms.quantity(request.form, low=1, high=_max_quantity(), default=1)
        if current_user.is_authenticated:
            added = services.add_item(
                current_user.id, product_id, quantity, _max_quantity(), currencies.current(),
                languages.current(),
            )  # fmt: skip
        else:
            changed = guest.add(session.get(guest.SESSION_KEY), product_id, quantity,
                                _max_quantity(), currencies.current())  # fmt: skip
            _keep_guest(changed)
            added = changed.added
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
def set_quantity(product_id: int):
    """Set a line's quantity; 0 removes the line."""
    try:
        quantity = forms.quantity(request.form, low=0, high=_max_quantity())
        if current_user.is_authenticated:
            cart = services.set_quantity(
                current_user.id, product_id, quantity, currencies.current(), languages.current()
            )
        else:
            changed = guest.set_quantity(
                session.get(guest.SESSION_KEY), product_id, quantity, currencies.current()
            )
            _keep_guest(changed)
            cart = changed.cart
    except (forms.InvalidInput, services.CartError) as error:
        return render_cart(message=str(error), message_kind="error", status=_status(error))
    return _changed(cart, _removed(cart) if quantity == 0 else _("Your cart is updated."))


@bp.delete("/cart/items/<int:product_id>")
def remove_item(product_id: int):
    """Remove a line; removing it twice is fine."""
    if current_user.is_authenticated:
        cart = services.remove_item(
            current_user.id, product_id, currencies.current(), languages.current()
        )
    else:
        changed = guest.remove(session.get(guest.SESSION_KEY), product_id, currencies.current())
        _keep_guest(changed)
        cart = changed.cart
    return _changed(cart, _removed(cart))
