"""`/admin...`: the dashboard, the orders list, one order, shipping it, the products and
their stock, the promotion codes. Admins only.

Every route sits behind the blueprint's guard (visitors log in first, anyone else gets
404) and every POST behind the per-admin rate limit, so no view can forget either. htmx
gets the named blocks of a page; plain requests the whole page.
"""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import payments, security
from ..auth import require_admin
from ..catalog import services as catalog
from ..htmx import hx_push_url, is_htmx, render
from ..models import utcnow
from ..money import format_money
from ..orders import refunds, shipping
from ..orders.models import REFUND_REASONS, OrderStatus, Source
from ..promotions import services as promotions
from ..templating import shop_time
from . import export, forms, services

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_admin)
security.admin_limit(bp)

#: How the timeline names where a change came from.
SOURCE_LABELS = {
    Source.CHECKOUT: _l("the customer's checkout"),
    Source.SUCCESS_PAGE: _l("the customer's return from Stripe"),
    Source.WEBHOOK: _l("a Stripe webhook"),
    Source.RECONCILE: _l("reconcile"),
    Source.ADMIN: _l("an admin"),
    Source.SYSTEM: _l("the shop"),
}


@bp.app_context_processor
def admin_globals() -> dict:
    """What the admin pages share: the period and shipping names, the timeline's sources."""
    return {
        "admin_periods": forms.PERIODS,
        "admin_fulfilments": forms.FULFILMENTS,
        "source_labels": SOURCE_LABELS,
        "event_label": event_label,
    }


#: How the timeline names each kind of entry (a status the order moved to, or an event).
EVENT_LABELS = {
    "created": _l("Created"),
    "pending": _l("Pending"),
    "paid": _l("Paid"),
    "failed": _l("Failed"),
    "expired": _l("Expired"),
    "cancelled": _l("Cancelled"),
    "partially_refunded": _l("Partially refunded"),
    "refunded": _l("Refunded"),
    "shipped": _l("Shipped"),
    "refund": _l("Refund"),
    "refund_failed": _l("Refund failed"),
    "attention": _l("Attention"),
    "stock_returned": _l("Stock returned"),
    "dispute_open": _l("Dispute open"),
    "dispute_won": _l("Dispute won"),
    "dispute_lost": _l("Dispute lost"),
    "email_failed": _l("Email failed"),
}


def event_label(kind: str) -> str:
    """A timeline entry's kind in words (a kind not listed: its own name, capitalised)."""
    return str(EVENT_LABELS.get(kind) or kind.replace("_", " ").capitalize())


@bp.get("")
def dashboard():
    """Today's and the week's paid orders and revenue, pending checkouts, orders to ship."""
    return render("admin/dashboard.html", figures=services.dashboard(utcnow()))


@bp.get("/orders")
def orders():
    """The orders a filter selects, newest first, 50 a page, with their totals."""
    try:
        wanted = forms.order_filter(request.args)
    except forms.InvalidFilter as refusal:
        abort(400, str(refusal))
    listing = services.find_orders(wanted, utcnow())
    response = render(
        "admin/orders.html", ("results",), wanted=wanted, listing=listing, statuses=OrderStatus
    )
    # The form sends its empty fields too; the address bar gets the filter's short form.
    return hx_push_url(response, url_for(".orders", **wanted.args()))


@bp.get("/orders.csv")
def orders_csv():
    """Every order the list's filter selects as CSV, streamed; recorded, and rate limited."""
    try:
        wanted = forms.order_filter(request.args)
    except forms.InvalidFilter as refusal:
        abort(400, str(refusal))
    if not security.take_export("orders"):
        abort(429, _("Too many exports: try again later."))
    now = utcnow()
    export.record(current_user.id, wanted, now)
    response = Response(stream_with_context(export.lines(wanted, now)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename(now)}"'
    response.mimetype_params["charset"] = "utf-8"
    return response


@bp.get("/orders/<int:order_id>")
def order(order_id: int):
    """One order in full: customer, lines, payment, shipment, refunds, timeline."""
    return order_page(order_id)


@bp.post("/orders/<int:order_id>/shipment")
def ship(order_id: int):
    """Mark a paid order shipped, once; htmx gets the order's panel back, forms a redirect."""
    form = forms.ShipmentForm()
    if not form.validate():
        return order_page(order_id, form, _("Nothing was changed: see the form."), "error", 422)
    try:
        shipment = shipping.ship_order(
            order_id, current_user.id, form.carrier.data or "", form.tracking_number.data or "",
            disputed_ok=request.form.get("confirm_disputed") == "on",
            addressless_ok=request.form.get("confirm_no_address") == "on",
        )  # fmt: skip
    except shipping.OrderNotFound:
        abort(404)
    except (shipping.DisputedShipment, shipping.AddresslessShipment) as refusal:
        return order_page(order_id, form, str(refusal), "error", 409)
    except shipping.NotShippable as refusal:
        return order_page(order_id, form, str(refusal), "error", 409)
    message, kind = shipped_message(shipment)
    if not is_htmx():
        flash(message, kind)
        return redirect(url_for(".order", order_id=order_id), 303)
    return order_page(order_id, message=message, message_kind=kind)


@bp.post("/orders/<int:order_id>/refunds")
def refund(order_id: int):
    """Refund part or all of a paid order at Stripe, once per form (a double click or a
    retry is the same refund); refusals say why, with nothing sent or nothing changed."""
    detail = services.order_detail(order_id) or abort(404)
    try:
        asked = forms.refund_asked(request.form, detail.order.currency)
    except forms.InvalidRefund as refusal:
        return order_page(order_id, message=str(refusal), message_kind="error", status=422)
    try:
        outcome = refunds.request_refund(
            order_id, asked.amount_cents, asked.reason, current_user.id, asked.key,
            asked.return_to_stock,
        )  # fmt: skip
    except refunds.RefundRefused as refusal:
        return order_page(
            order_id, message=str(refusal), message_kind="error", status=refusal.status
        )
    except refunds.RefundFailed as failure:
        message = _(
            "Stripe refused the refund: %(failure)s. Nothing was refunded.", failure=failure
        )
        return order_page(order_id, message=message, message_kind="error", status=502)
    except refunds.RefundPending as pending:
        return order_page(order_id, message=str(pending), message_kind="warning", status=503)
    message, kind = refund_message(outcome)
    if not is_htmx():
        flash(message, kind)
        return redirect(url_for(".order", order_id=order_id), 303)
    return order_page(order_id, message=message, message_kind=kind)


def refund_message(outcome: refunds.Asked) -> tuple[str, str]:
    """What the admin reads after a refund: made, pending at Stripe, or made before."""
    made = outcome.refund
    amount = format_money(made.amount_cents, made.currency)
    if not outcome.made_now:
        return _(
            "That refund of %(amount)s was already made (%(status)s); nothing more.",
            amount=amount,
            status=made.status,
        ), "info"
    if made.status == "succeeded":
        return _(
            "Refunded %(amount)s of order #%(order_id)s.", amount=amount, order_id=made.order_id
        ), "success"
    return _(
        "Refund of %(amount)s sent to Stripe; it is %(status)s.",
        amount=amount,
        status=made.status.replace("_", " "),
    ), "info"


def shipped_message(shipment: shipping.Shipment) -> tuple[str, str]:
    """What the admin reads after asking to ship: done, or done before (nothing changed)."""
    order = shipment.order
    if shipment.shipped_now:
        return _("Order #%(id)s is marked shipped.", id=order.id), "success"
    when = shop_time(order.shipped_at)
    return _(
        "Order #%(id)s had already shipped on %(when)s; nothing was changed.",
        id=order.id,
        when=when,
    ), "info"


def order_page(
    order_id: int,
    form: forms.ShipmentForm | None = None,
    message: str | None = None,
    message_kind: str = "success",
    status: int = 200,
):
    """The order page (htmx: the order's block), with the shipment form and a message."""
    detail = services.order_detail(order_id) or abort(404)
    return render(
        "admin/order.html",
        ("order",),
        status=status,
        detail=detail,
        links=payments.order_links(detail.order.stripe_session_id, detail.order.payment_intent_id),
        form=form or forms.ShipmentForm(formdata=None),
        refund_key=refunds.new_key(),
        refund_reasons=REFUND_REASONS,
        message=message,
        message_kind=message_kind,
    )


@bp.get("/products")
def products():
    """Every product, shown or hidden, with its stock, held units and last change."""
    return products_page()


@bp.post("/products/<sku>")
def update_product(sku: str):
    """Set a product's units on hand and whether it is shown; 422 naming the bad field."""
    try:
        change = forms.product_change(request.form)
    except forms.InvalidProductChange as refusal:
        return products_page(sku, str(refusal), "error", 422, field=refusal.field)
    try:
        changes = catalog.update_product(sku, change.stock, change.active, current_user.id)
    except catalog.ProductNotFound:
        abort(404)
    message = f"{sku}: {'; '.join(changes)}." if changes else f"{sku}: nothing to change."
    if not is_htmx():
        flash(message, "success" if changes else "info")
        return redirect(url_for(".products"), 303)
    return products_page(sku, message, "success" if changes else "info")


def products_page(
    sku: str | None = None,
    message: str | None = None,
    message_kind: str = "success",
    status: int = 200,
    field: str | None = None,
):
    """The products page; htmx gets the rows back with the message beside the product."""
    return render(
        "admin/products.html",
        ("rows",),
        status=status,
        rows=catalog.admin_products(),
        changed_sku=sku,
        message=message,
        message_kind=message_kind,
        error_field=field,
    )


@bp.get("/promotions")
def promotions_list():
    """Every code: what it takes off, uses and limit, expiry, whether it is active."""
    return promotions_page()


@bp.post("/promotions")
def create_promotion():
    """Create a code at Stripe and here; 422 naming the bad field, 503 if Stripe is away."""
    today = utcnow().date()
    try:
        new = forms.new_promotion(request.form, current_app.config["SHOP_CURRENCIES"], today)
        created = promotions.create(new, current_user.id)
    except (forms.InvalidPromotion, promotions.PromotionError) as refusal:
        return promotions_page(str(refusal), "error", 422, field=refusal.field)
    except promotions.CodesUnavailable:
        message = _("Stripe could not be reached; the code was not created. Try again.")
        return promotions_page(message, "error", 503)
    message = _(
        "Code %(code)s created: %(describe)s.",
        code=created.code,
        describe=promotions.describe(created),
    )
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for(".promotions_list"), 303)
    return promotions_page(message, "success")


@bp.post("/promotions/<code>/deactivate")
def deactivate_promotion(code: str):
    """Stop new uses of a code; orders that used it keep it."""
    try:
        found = promotions.deactivate(code)
    except promotions.CodesUnavailable:
        message = _("Stripe could not be reached; the code is still active. Try again.")
        return promotions_page(message, "error", 503)
    if found is None:
        abort(404)
    message = _("Code %(code)s deactivated: no new order can use it.", code=found.code)
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for(".promotions_list"), 303)
    return promotions_page(message, "success")


def promotions_page(
    message: str | None = None,
    message_kind: str = "success",
    status: int = 200,
    field: str | None = None,
):
    """The codes page; htmx gets the list and the form back with the outcome."""
    return render(
        "admin/promotions.html",
        ("promotions_body",),
        status=status,
        rows=promotions.listing(),
        message=message,
        message_kind=message_kind,
        error_field=field,
        typed=request.form if request.method == "POST" and message_kind == "error" else {},
        describe=promotions.describe,
        currencies=current_app.config["SHOP_CURRENCIES"],
    )
