"""`GET /`: the one page, and the catalogue grid as an active-search fragment;
`GET /products/<sku>`: one product, as a page or as the body of the grid's product dialog."""

from flask import Blueprint, abort, current_app, request, send_from_directory

from ..htmx import is_htmx, render
from . import services

bp = Blueprint("catalog", __name__)


@bp.app_context_processor
def catalogue_globals() -> dict:
    """`catalogue()`: the active products, for any page drawn over the catalogue."""
    return {"catalogue": services.search_products}


@bp.get("/")
def index():
    """The page; with htmx (active search) only the grid, whose URL is pushed to history."""
    query = request.args.get("q", "")[: services.QUERY_MAX]
    products = services.search_products(query)
    blocks = ["grid", "search_status"]  # the count of results is read out from the latter
    return render("catalog/index.html", blocks, products=products, q=query, oob=is_htmx())


@bp.get("/products/<sku>")
def product(sku: str):
    """One product: the page, or for htmx the body of the product dialog."""
    found = services.find_product(sku) or abort(404, "That product does not exist.")
    return render("catalog/product.html", ["product_body"], product=found, in_dialog=is_htmx())


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; answer with the SVG icon."""
    return send_from_directory(current_app.static_folder, "favicon.svg", max_age=86400)
