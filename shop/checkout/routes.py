"""`POST /checkout`, `GET /checkout/success`, `GET /checkout/cancel`."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import currencies, languages, security
from ..cart import forms
from ..catalog.services import find_product
from ..htmx import hx_redirect, is_htmx, render
from ..orders import services as orders
from ..orders.models import OrderStatus
from ..pages import CART, ORDERS, with_dialog
from . import confirmation, services

bp = Blueprint("checkout", __name__)

#: The session key remembering the last order this browser was thanked for.
THANKED = "thanked_order_id"


@bp.post("/checkout")
@security.checkout_limit
def start():
    """Send the customer to their one Checkout Session, resuming it when it still fits. A
    visitor (with a cart in their session) goes to log in first, and comes back to the
    cart, open, with their lines merged."""
    if not current_user.is_authenticated:
        return hx_redirect(url_for("auth.login", next=url_for("cart.show")))
    try:
        outcome = services.start_checkout(
            current_user, services.return_urls(), _ttl(), currencies.current(), languages.current()
        )
    except services.CheckoutRefused as refusal:
        return with_dialog(CART, str(refusal), "error", 409)
    except services.CheckoutUnavailable as outage:
        return with_dialog(CART, str(outage), "error", 503)
    return _go(outcome)


@bp.post("/products/<sku>/buy")
@login_required
@security.checkout_limit
def buy_now(sku: str):
    """Buy `quantity` (1 when absent) of one product now, in `currency` (when given) or the
    customer's: a Checkout Session for it alone, the cart left untouched."""
    if find_product(sku) is None:
        abort(404, _("That product does not exist."))
    try:
        quantity = forms.quantity(
            request.form, low=1, high=current_app.config["CART_MAX_QUANTITY"], default=1
        )
        currency = _currency_asked()
        outcome = services.buy_now(
            current_user, sku, quantity, currency, services.return_urls(), _ttl(),
            languages.current(),
        )  # fmt: skip
    except forms.InvalidInput as error:
        return _refused(sku, str(error), 422)
    except services.NoSuchProduct:
        abort(404, _("That product does not exist."))
    except services.CheckoutRefused as refusal:
        return _refused(sku, str(refusal), 409)
    except services.CheckoutUnavailable as outage:
        return _refused(sku, str(outage), 503)
    return _go(outcome)


def _currency_asked() -> str:
    """The form's `currency` if given (an offered one, any case), else the customer's."""
    raw = request.form.get("currency")
    if raw is None:
        return currencies.current()
    code = currencies.chosen(raw)
    if code is None:
        offered = " or ".join(code.upper() for code in currencies.offered())
        raise forms.InvalidInput(
            _("Choose a currency the shop sells in: %(offered)s.", offered=offered)
        )
    return code


def _refused(sku: str, message: str, status: int):
    """A Buy now that did not start: the note under the product's buttons (htmx), or the
    product's page saying why."""
    if is_htmx():
        return render("cart/cart.html", ["add_note"], status, note=message, note_error=True)
    flash(message, "error")
    product = find_product(sku)
    currency = currencies.current()
    return render("catalog/product.html", status=status, product=product, currency=currency,
                  price=product.price_in(currency))  # fmt: skip


def _ttl() -> timedelta:
    """How long a new Checkout Session stays open."""
    return timedelta(minutes=current_app.config["CHECKOUT_SESSION_TTL_MINUTES"])


def _go(outcome: services.Outcome):
    """Off to Stripe's page, or to My Orders when the pending checkout was paid already."""
    if isinstance(outcome, services.AlreadyPaid):
        flash(_("Your previous checkout was already paid; nothing was charged again."), "success")
        return hx_redirect(url_for("orders.show"))
    return hx_redirect(outcome.url)


def _thank_once(order_id: int) -> str | None:
    """The thank-you, the first time this browser comes back for `order_id`; a reload of
    the success page shows the order without saying it again."""
    if session.get(THANKED) == order_id:
        return None
    session[THANKED] = order_id
    return _("Thank you! Order #%(id)d is paid.", id=order_id)


@bp.get("/checkout/success")
@login_required
def success():
    """Back from Stripe: reconcile the session, then show My Orders with the outcome (a paid
    order's detail)."""
    order = orders.find_by_session(current_user.id, request.args.get("session_id", ""))
    if order is None:
        abort(404)
    order = confirmation.confirm(order)
    if order.status == OrderStatus.PAID:
        paid = orders.find_order(current_user.id, order.id)
        return with_dialog(ORDERS, _thank_once(order.id), detail=paid)
    if order.status == OrderStatus.PENDING:
        return with_dialog(
            ORDERS,
            _(
                "Order #%(id)d is waiting for Stripe to confirm the payment; this list updates "
                "by itself.",
                id=order.id,
            ),
            "info",
        )
    message = _("Order #%(id)d was not paid; nothing was charged.", id=order.id)
    return with_dialog(ORDERS, message, "warning")


@bp.get("/checkout/cancel")
@login_required
def cancel():
    """Back from Stripe without paying: the session is closed at Stripe at once (its units
    back on sale, the order cancelled), then the cart, open, with what happened. Stripe's
    word wins: a session paid a moment before shows as the paid order it is."""
    closed = services.cancel_checkout(current_user.id)
    if closed.outcome == "paid":
        paid = orders.find_order(current_user.id, closed.order_id)
        return with_dialog(ORDERS, _thank_once(closed.order_id), detail=paid)
    if closed.outcome == "unreachable":
        message = _(
            "Checkout cancelled; nothing was charged. Stripe could not be reached to close "
            "the payment page, so the order closes by itself within minutes."
        )
        return with_dialog(CART, message, "info")
    message = _("Checkout cancelled; nothing was charged. Your cart is as you left it.")
    return with_dialog(CART, message, "info")
