"""`GET /`: the one page, and the catalogue grid as an active-search fragment;
`GET /products/<sku>`: one product, as a page or as the body of the grid's product dialog."""

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    request,
    send_from_directory,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import currencies, languages, rendered
from ..auth import services as accounts
from ..extensions import reads_only
from ..htmx import is_htmx, render, render_text, respond
from ..urls import safe_next
from . import services

bp = Blueprint("catalog", __name__)


@bp.app_context_processor
def catalogue_globals() -> dict:
    """`catalogue()`: the active products in the request's currency, for any page drawn over
    the catalogue."""
    return {
        "catalogue": lambda query="": services.search_products(
            query, currencies.current(), languages.current()
        )
    }


@bp.get("/")
@reads_only
def index():
    """The page; with htmx (active search) only the grid, whose URL is pushed to history.

    Rendered once per process for the cards it shows (`shop.rendered`): the cards are read
    on every request, and only a change to one of them renders the page again."""
    query = request.args.get("q", "")[: services.QUERY_MAX]
    user = current_user
    signed_in = user.is_authenticated
    currency = currencies.current()
    language = languages.current()
    products, badge = services.cards_and_badge(
        query, user.id if signed_in else 0, currency, language
    )
    blocks = ["grid", "search_status"]  # the count of results is read out from the latter
    htmx = is_htmx()

    def draw(**marks) -> str:
        """The page (or the grid) for these cards."""
        return render_text("catalog/index.html", blocks, products=products, q=query, oob=htmx,
                           **marks)  # fmt: skip

    if not rendered.cacheable():
        return respond(draw())
    viewer = "admin" if signed_in and user.is_admin else signed_in
    slot = ("catalog.index", viewer, query, htmx, request.host_url, currency, language)
    html = rendered.page(slot, products, lambda: draw(**rendered.marked_context()))
    if badge is None and signed_in:  # no card matched, so no row carried the count
        badge = services.badge(user.id)
    if not signed_in:
        badge = _visitor_units()  # from the visitor's cookie: no query
    return respond(rendered.fill(html, cart_count=lambda: badge or 0))


#: The units in a visitor's cart (kept in their session by the cart, which builds on the
#: catalog: `shop.create_app` hands it over with `count_visitor_units_with`).
_visitor_units: Callable[[], int] = lambda: 0  # noqa: E731


def count_visitor_units_with(count: Callable[[], int]) -> None:
    """Use `count()` for a visitor's header badge."""
    global _visitor_units
    _visitor_units = count


@bp.get("/products/<sku>")
@reads_only
def product(sku: str):
    """One product: the page, or for htmx the body of the product dialog."""
    found = services.find_product(sku) or abort(404, _("That product does not exist."))
    currency = currencies.current()
    return render("catalog/product.html", ["product_body"], product=found, in_dialog=is_htmx(),
                  currency=currency, price=found.price_in(currency))  # fmt: skip


@bp.post("/currency")
def switch_currency():
    """Price the shop in `currency` for this visitor (and on a customer's account): htmx
    gets the grid re-priced with the switch and the badge out of band, a plain form a 303
    back to the page it was on. An unknown currency: 422, nothing changed."""
    code = currencies.chosen(request.form.get("currency"))
    if code is None:
        offered = " or ".join(code.upper() for code in currencies.offered())
        abort(422, _("The shop sells in %(offered)s; choose one of them.", offered=offered))
    currencies.remember(code)
    user = current_user
    signed_in = user.is_authenticated
    in_cart = 0
    if signed_in:
        accounts.set_currency(user.id, code)
        in_cart = services.badge(user.id)
    message = _("Prices are now in %(currency)s.", currency=code.upper())
    if in_cart:
        message += f" Your cart is re-priced in {code.upper()}; its quantities are kept."
    if not is_htmx():
        flash(message, "success")
        return redirect(_back(), 303)
    query = request.form.get("q", "")[: services.QUERY_MAX]
    products = services.search_products(query, code, languages.current())
    blocks = ["grid", "currency_switch", "switch_note"] + (["cart_badge"] if signed_in else [])
    html = render_text("catalog/index.html", blocks, products=products, q=query, oob=True,
                       switched=message, cart=_Badge(in_cart))  # fmt: skip
    return respond(html)


@bp.post("/language")
def switch_language():
    """Answer in `language` (`en`, `de`) from now on, for this visitor and on a customer's
    account (their emails too): a 303 back to the page the switch was on, which then reads
    in the new language (htmx follows it as a whole page). Anything else: 422."""
    code = (request.form.get("language") or "").strip().lower()
    if code not in languages.OFFERED:
        names = " or ".join(f"{name} ({code})" for code, name in languages.NAMES.items())
        abort(422, _("The shop speaks %(names)s; choose one of them.", names=names))
    languages.remember(code)
    if current_user.is_authenticated:
        accounts.set_language(current_user.id, code)
    response = redirect(_back(), 303)
    if is_htmx():
        response.headers["HX-Redirect"] = response.headers["Location"]
    return response


def _back() -> str:
    """The page the switch was pressed on (the Referer, same site only), else the shop."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc != request.host:
        return safe_next(None)
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


class _Badge:
    """What the header badge block reads: the cart's unit count."""

    def __init__(self, count: int) -> None:
        self.count = count


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; answer with the SVG icon."""
    return send_from_directory(current_app.static_folder, "favicon.svg", max_age=86400)
