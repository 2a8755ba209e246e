"""Answers of the one-page shop: the whole page, or the named blocks of it for htmx.

Every page is the catalogue with at most one dialog open over it: the cart or My Orders
(base.html holds both shells). Each area gives the templates what its part of the page
needs as lazy template globals, registered by its own blueprint (`catalogue()`,
`cart_count()`, `current_cart()`, `my_orders()`), so a view passes only what it alone
knows, no view needs another area's view, and nothing is loaded for a block not rendered.
"""

from dataclasses import dataclass

from flask import Response

from .htmx import is_htmx, render


@dataclass(frozen=True)
class Dialog:
    """A dialog of the page: the page template with it open, and what htmx swaps."""

    name: str
    template: str
    blocks: tuple[str, ...]


#: The cart: its body, the header badge and the dialog's live region (both out of band).
CART = Dialog("cart", "cart/cart.html", ("cart_body", "cart_badge", "cart_status"))
#: My Orders: its body.
ORDERS = Dialog("orders", "orders/orders.html", ("orders_body",))
#: Favourites: its body, and the header badge out of band ("Move to cart" changes it).
FAVOURITES = Dialog("favourites", "favourites/favourites.html", ("favourites_body", "cart_badge"))


def with_dialog(
    dialog: Dialog,
    message: str | None = None,
    message_kind: str = "success",
    status: int = 200,
    **context,
) -> Response:
    """The page with `dialog` open and a message in it; only the dialog's blocks for htmx."""
    return render(
        dialog.template,
        dialog.blocks,
        status=status,
        open_dialog=dialog.name,
        message=message,
        message_kind=message_kind,
        oob=is_htmx(),
        **context,
    )
