"""`GET /`: the one page, and the catalogue grid as an active-search fragment."""

from flask import Blueprint, current_app, request, send_from_directory

from ..htmx import render
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
    return render("catalog/index.html", ["grid"], products=products, q=query)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; answer with the SVG icon."""
    return send_from_directory(current_app.static_folder, "favicon.svg", max_age=86400)
