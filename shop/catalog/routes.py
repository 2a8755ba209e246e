"""`GET /`: the one page, and the catalogue grid as an active-search fragment;
`GET /products/<sku>`: one product, as a page or as the body of the grid's product dialog."""

from flask import Blueprint, abort, current_app, request, send_from_directory
from flask_login import current_user

from .. import rendered
from ..extensions import reads_only
from ..htmx import is_htmx, render, render_text, respond
from . import services

bp = Blueprint("catalog", __name__)


@bp.app_context_processor
def catalogue_globals() -> dict:
    """`catalogue()`: the active products, for any page drawn over the catalogue."""
    return {"catalogue": services.search_products}


@bp.get("/")
@reads_only
def index():
    """The page; with htmx (active search) only the grid, whose URL is pushed to history.

    Rendered once per process for the cards it shows (`shop.rendered`): the cards are read
    on every request, and only a change to one of them renders the page again."""
    query = request.args.get("q", "")[: services.QUERY_MAX]
    user = current_user
    signed_in = user.is_authenticated
    products, badge = services.cards_and_badge(query, user.id if signed_in else 0)
    blocks = ["grid", "search_status"]  # the count of results is read out from the latter
    htmx = is_htmx()

    def draw(**marks) -> str:
        """The page (or the grid) for these cards."""
        return render_text("catalog/index.html", blocks, products=products, q=query, oob=htmx,
                           **marks)  # fmt: skip

    if not rendered.cacheable():
        return respond(draw())
    viewer = "admin" if signed_in and user.is_admin else signed_in
    slot = ("catalog.index", viewer, query, htmx, request.host_url)
    html = rendered.page(slot, products, lambda: draw(**rendered.marked_context()))
    if badge is None and signed_in:  # no card matched, so no row carried the count
        badge = services.badge(user.id)
    return respond(rendered.fill(html, cart_count=lambda: badge or 0))


@bp.get("/products/<sku>")
@reads_only
def product(sku: str):
    """One product: the page, or for htmx the body of the product dialog."""
    found = services.find_product(sku) or abort(404, "That product does not exist.")
    return render("catalog/product.html", ["product_body"], product=found, in_dialog=is_htmx())


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; answer with the SVG icon."""
    return send_from_directory(current_app.static_folder, "favicon.svg", max_age=86400)
