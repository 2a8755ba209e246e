"""`/api/v1/...`: the JSON API, and `/api/openapi.json` and `/api/docs` describing it.

Each view is the page's route again without the page: it parses with the models of
`schemas`, calls the same service (cart, checkout, orders) and says what happened in JSON.
spectree validates each request (and, in tests, each answer) against those models and
builds the OpenAPI document from them, so the document cannot drift from the code.
"""

from collections.abc import Sequence
from copy import deepcopy
from datetime import timedelta

from flask import Blueprint, Response, current_app, render_template, request
from flask_login import current_user
from spectree import Response as Answers
from spectree import SecurityScheme, SecuritySchemeData, SpecTree

from .. import currencies, languages
from ..cart import forms
from ..cart import services as cart
from ..catalog import services as catalog
from ..checkout import services as checkout
from ..extensions import csrf
from ..models import utcnow
from ..orders import services as orders
from ..orders.models import OrderStatus
from ..problems import MEDIA_TYPE, Problem
from ..promotions import services as promotions
from ..urls import external_url
from . import access, reference, schemas
from .idempotency import HEADER, KEY_MAX, KEY_PATTERN, idempotent

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # no cookie is read here: a request cannot ride on a browser's session
bp.before_request(access.before_request)

#: Statuses every operation may answer, whatever it does.
COMMON = (400, 413, 415, 429, 500, 503)
#: Clearer words than pydantic's for the refusals a client meets most.
MESSAGES = {
    "extra_forbidden": "Unknown field.",
    "missing": "This field is required.",
    "int_type": "Send a whole number.",
    "int_parsing": "Send a whole number.",
    "int_from_float": "Send a whole number.",
    "value_error": None,
    "string_type": "Send a string.",
}


def _invalid(req, resp, error, instance, adapter) -> None:
    """spectree's hook before a view: a request that failed validation is a 422 naming
    each bad field."""
    if error is None:
        return
    errors: dict[str, list[str]] = {}
    for item in error.errors(include_context=False):
        field = ".".join(str(part) for part in item["loc"]) or "body"
        message = MESSAGES.get(item["type"]) or item["msg"].removeprefix("Value error, ")
        errors.setdefault(field, []).append(message)
    raise Problem(422, "Some fields are not valid; see `errors`.", errors=errors)


def _after(req, resp, error, instance, adapter) -> None:
    """spectree's hook after a view: an answer that breaks its own schema is a bug."""
    if error is not None:
        current_app.logger.error("api: %s answered outside its schema: %s", req.path, error)


spec = SpecTree(
    "flask",
    mode="strict",
    annotations=False,
    title="Northside Roastery API",
    version="1.0.0",
    description=(
        "The shop's JSON API. Authenticate with a personal access token made on the account "
        "page: `Authorization: Bearer nsr_...`. Money is `{amount, currency}` in minor units. "
        "Errors are `application/problem+json` (RFC 9457). POSTs take an `Idempotency-Key`. "
        "A method a path does not offer answers 405 (problem+json)."
    ),
    path="api-spec",
    page_templates={},
    security_schemes=[
        SecurityScheme(
            name="token",
            data=SecuritySchemeData(type="http", scheme="bearer", bearer_format="nsr_..."),
        ),
    ],
    before=_invalid,
    after=_after,
    validation_error_model=schemas.Problem,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)
TOKEN = {"token": []}


def _answers(
    ok: tuple[int, type] | None,
    *refusals: int,
    token: bool = False,
    also: tuple[int, type] | None = None,
) -> Answers:
    """The documented answers of an operation: its success (and `also` another), its own
    refusals, 401 when it takes a token, 422 (spectree adds it), and the COMMON ones;
    every error a Problem."""
    codes: dict[str, type] = {}
    for success in (ok, also):
        if success is not None:
            codes[f"HTTP_{success[0]}"] = success[1]
    for status in (*refusals, *((401,) if token else ()), *COMMON):
        codes[f"HTTP_{status}"] = schemas.Problem
    return Answers(**codes)


def _json(model, status: int = 200, headers: dict | None = None) -> Response:
    """A model as the JSON answer."""
    return Response(model.model_dump_json(), status, mimetype="application/json",
                    headers=headers)  # fmt: skip


def _money(cents: int, currency: str) -> schemas.Money:
    return schemas.Money(amount=cents, currency=currency)


def _currency() -> str:
    """The caller's currency: their account's, else the shop's default (no session here)."""
    return currencies.chosen(getattr(current_user, "currency", None)) or currencies.default()


def _page(items: Sequence, key, limit: int, after) -> tuple[list, bool]:
    """Stripe-style pages: up to `limit` items after the one whose `key` is `after`."""
    start = 0
    if after is not None:
        keys = [key(item) for item in items]
        if after not in keys:  # as a path naming nothing: Stripe answers "no such object"
            raise Problem(404, "`starting_after` names nothing in this list.")
        start = keys.index(after) + 1
    chosen = list(items[start : start + limit])
    return chosen, start + limit < len(items)


# --- the document ---------------------------------------------------------------------------


def document() -> dict:
    """The OpenAPI 3.1 document, made once per app: spectree's, with each error answer's
    media type said as it is sent (`application/problem+json`)."""
    held = current_app.extensions.get("shop.openapi")
    if held is None:
        spec_ = deepcopy(spec.spec)  # spectree makes it once per process (it cannot twice)
        for path in spec_["paths"].values():
            for operation in path.values():
                for status, answer in operation.get("responses", {}).items():
                    if status.startswith(("4", "5")) and "content" in answer:
                        answer["content"] = {MEDIA_TYPE: answer["content"]["application/json"]}
        _no_nul_in_paths(spec_)
        _settings_in_schemas(spec_["components"]["schemas"])
        _add_idempotency_header(spec_)
        _add_links(spec_)
        held = current_app.extensions["shop.openapi"] = spec_
    return held


def _settings_in_schemas(models: dict) -> None:
    """Say in the document what the shared rules check against the settings: the range of
    a quantity (CART_MAX_QUANTITY, `cart.forms.in_range`) and the currencies offered."""
    most = current_app.config["CART_MAX_QUANTITY"]
    for name, low in (("AddItem", 1), ("SetQuantity", 0), ("BuyNow", 1)):
        models[name]["properties"]["quantity"].update(minimum=low, maximum=most)
    offered = list(currencies.offered())
    models["BuyNow"]["properties"]["currency"]["anyOf"][0]["enum"] = offered + [
        code.upper() for code in offered
    ]


#: What each path parameter names.
PATH_PARAMETERS = {
    "sku": "The product's SKU, as the product list gives it (e.g. `BEAN-ETH-250`).",
    "order_id": "The order's number, as the order list and the checkout give it.",
}


def _no_nul_in_paths(document_: dict) -> None:
    """Say of each text in a path what `shop.security` enforces: no NUL (a 400); and what
    each path parameter names."""
    for path in document_["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    parameter["description"] = PATH_PARAMETERS[parameter["name"]]
                if parameter["schema"].get("type") == "string":
                    parameter["schema"]["pattern"] = schemas.NO_NUL


def _add_idempotency_header(document_: dict) -> None:
    """Every POST documents the optional Idempotency-Key header."""
    for path in document_["paths"].values():
        if "post" in path:
            path["post"].setdefault("parameters", []).append(
                {
                    "name": HEADER,
                    "in": "header",
                    "required": False,
                    "description": "The same key and body answer the first answer again "
                    "(24 hours, per token); the same key with another body is a 409.",
                    "schema": {"type": "string", "maxLength": KEY_MAX, "pattern": KEY_PATTERN},
                }
            )


#: How one operation's answer leads to the next (OpenAPI links): a client, or a stateful
#: test, can list products, add one, check out, then read and cancel the order.
LINKS = {
    ("listProducts", "200"): {
        "getProduct": {"parameters": {"sku": "$response.body#/data/0/sku"}},
        "addCartItem": {"requestBody": {"sku": "$response.body#/data/0/sku", "quantity": 1}},
        "buyNow": {"parameters": {"sku": "$response.body#/data/0/sku"}},
    },
    ("addCartItem", "200"): {
        "setCartItem": {"parameters": {"sku": "$response.body#/lines/0/sku"}},
        "removeCartItem": {"parameters": {"sku": "$response.body#/lines/0/sku"}},
        "checkOut": {},
    },
    **{
        (operation, status): {
            "getOrder": {"parameters": {"order_id": "$response.body#/order_id"}},
            "cancelOrder": {"parameters": {"order_id": "$response.body#/order_id"}},
        }
        for operation in ("checkOut", "buyNow")
        for status in ("200", "201")
    },
    ("listOrders", "200"): {
        "getOrder": {"parameters": {"order_id": "$response.body#/data/0/id"}},
    },
}


def _add_links(document_: dict) -> None:
    """Put LINKS on the answers they start from."""
    for path in document_["paths"].values():
        for operation in path.values():
            for status, answer in operation["responses"].items():
                for target, link in LINKS.get((operation["operationId"], status), {}).items():
                    answer.setdefault("links", {})[target] = {"operationId": target, **link}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document."""
    return current_app.json.response(document())


bp.add_app_template_filter(reference.code_spans, "code_spans")


@bp.get("/docs")
def docs():
    """The document as a plain page: every operation, its parameters, answers and models
    (no script: readable anywhere, and by any assistive technology)."""
    document_ = document()
    return render_template("api/reference.html", info=document_["info"],
                           openapi=document_["openapi"],
                           operations=reference.operations(document_),
                           models=reference.models(document_))  # fmt: skip


@bp.get("/docs/explorer")
def explorer():
    """The document in Swagger UI (vendored, under the shop's CSP), to try requests out."""
    return render_template("api/explorer.html")


# --- products ------------------------------------------------------------------------------


def _product(card) -> schemas.Product:
    """A catalogue card as the API shows it."""
    left = None if card.unheld is None else max(card.unheld, 0)
    return schemas.Product(
        sku=card.sku,
        name=card.name,
        description=card.description,
        image_url=external_url("static", filename=card.image),
        price=None if card.price_cents is None else _money(card.price_cents, card.currency),
        units_left=left,
        available=card.price_cents is not None and (left is None or left > 0),
    )


@bp.get("/v1/products")
@spec.validate(query=schemas.ProductsQuery, resp=_answers((200, schemas.ProductList), 401, 404),
               tags=["products"], operation_id="listProducts")  # fmt: skip
def list_products():
    """Products, by name; `q` searches names and descriptions.

    Prices are in the caller's currency (the account's with a token, else the shop's)."""
    query: schemas.ProductsQuery = request.context.query
    cards = catalog.search_products(query.q, _currency(), languages.current())
    chosen, more = _page(cards, lambda card: card.sku, query.limit, query.starting_after)
    return _json(schemas.ProductList(data=[_product(c) for c in chosen], has_more=more))


@bp.get("/v1/products/<sku>")
@spec.validate(resp=_answers((200, schemas.Product), 401, 404), tags=["products"],
               operation_id="getProduct")  # fmt: skip
def get_product(sku: str):
    """One product by SKU."""
    for card in catalog.search_products("", _currency(), languages.current()):
        if card.sku == sku:
            return _json(_product(card))
    raise Problem(404, "That product does not exist.")


# --- cart -------------------------------------------------------------------------------------


def _cart_answer(status: int = 200) -> Response:
    """The caller's cart, priced, with its code."""
    held = cart.load_cart(current_user.id, _currency(), languages.current())
    applied = (
        None
        if held.is_empty
        else promotions.applied(current_user.id, held.code, held.currency, held.subtotal_cents)
    )
    currency = held.currency
    lines = [
        schemas.CartLine(
            sku=line.product.sku,
            name=line.product.name,
            quantity=line.quantity,
            unit_price=None
            if line.product.price_cents is None
            else _money(line.product.price_cents, currency),
            line_total=_money(line.line_total_cents, currency),
            available=line.available,
            units_left=line.units_left,
        )
        for line in held.lines
    ]
    discount = applied.discount_cents if applied else 0
    body = schemas.Cart(
        currency=currency,
        count=held.count,
        lines=lines,
        subtotal=_money(held.subtotal_cents, currency),
        code=applied.code if applied else None,
        discount=_money(discount, currency),
        total=_money(held.subtotal_cents - discount, currency),
        code_problem=applied.problem if applied else None,
        can_check_out=held.can_check_out and not (applied and applied.problem),
    )
    return _json(body, status)


def _max_quantity() -> int:
    return current_app.config["CART_MAX_QUANTITY"]


def _quantity(value: int, low: int) -> int:
    """The page's range rule for a quantity, its words in `errors.quantity`."""
    try:
        return forms.in_range(value, low, _max_quantity())
    except forms.InvalidInput as error:
        raise Problem(422, str(error), errors={"quantity": [str(error)]}) from None


def _product_id(sku: str) -> int:
    """The id of the product a SKU names (404 as the page says it)."""
    product = catalog.find_product(sku)
    if product is None:
        raise Problem(404, "That product is not available.")
    return product.id


def _refused(error: cart.CartError) -> Problem:
    """A refusal of the cart's rules, with the page's status and words."""
    return Problem(cart.refusal_status(error), str(error))


@bp.get("/v1/cart")
@spec.validate(resp=_answers((200, schemas.Cart), token=True), tags=["cart"],
               security=TOKEN, operation_id="getCart")  # fmt: skip
@access.needs_token
def get_cart():
    """The caller's cart, in their account's currency, with its code and totals."""
    return _cart_answer()


@bp.post("/v1/cart/items")
@spec.validate(json=schemas.AddItem, resp=_answers((200, schemas.Cart), 404, 409, token=True),
               tags=["cart"], security=TOKEN, operation_id="addCartItem")  # fmt: skip
@access.needs_token
@idempotent
def add_cart_item():
    """Add `quantity` of a product; a line past the most per order is capped at it."""
    body: schemas.AddItem = request.context.json
    quantity = _quantity(body.quantity, 1)
    try:
        cart.add_item(current_user.id, _product_id(body.sku), quantity, _max_quantity(),
                      _currency(), languages.current())  # fmt: skip
    except cart.CartError as error:
        raise _refused(error) from None
    return _cart_answer()


@bp.put("/v1/cart/items/<sku>")
@spec.validate(json=schemas.SetQuantity, resp=_answers((200, schemas.Cart), 404, token=True),
               tags=["cart"], security=TOKEN, operation_id="setCartItem")  # fmt: skip
@access.needs_token
def set_cart_item(sku: str):
    """Set a line's quantity; 0 removes it. A line not in the cart is a 404."""
    body: schemas.SetQuantity = request.context.json
    quantity = _quantity(body.quantity, 0)
    product = catalog.find_product(sku)
    if product is None:
        raise Problem(404, "That product is no longer in your cart.")
    try:
        cart.set_quantity(current_user.id, product.id, quantity, _currency())
    except cart.CartError as error:
        raise _refused(error) from None
    return _cart_answer()


@bp.delete("/v1/cart/items/<sku>")
@spec.validate(resp=_answers((200, schemas.Cart), token=True), tags=["cart"], security=TOKEN,
               operation_id="removeCartItem")  # fmt: skip
@access.needs_token
def remove_cart_item(sku: str):
    """Remove a line; removing one that is not there is fine."""
    product = catalog.find_product(sku)
    if product is not None:
        cart.remove_item(current_user.id, product.id, _currency())
    return _cart_answer()


# --- checkout -------------------------------------------------------------------------------


def _ttl() -> timedelta:
    return timedelta(minutes=current_app.config["CHECKOUT_SESSION_TTL_MINUTES"])


def _started(outcome: checkout.Outcome) -> Response:
    """A checkout that started (201) or resumed (200); a pending one found paid is a 409."""
    if isinstance(outcome, checkout.AlreadyPaid):
        raise Problem(
            409,
            f"Your previous checkout (order {outcome.order_id}) was already paid; nothing was "
            "charged again.",
        )
    order = orders.find_order(current_user.id, outcome.order_id)
    body = schemas.CheckoutStarted(
        order_id=outcome.order_id, url=outcome.url, expires_at=order.expires_at,
        resumed=outcome.resumed,
    )  # fmt: skip
    return _json(body, 200 if outcome.resumed else 201)


def _checkout_problem(error: Exception) -> Problem:
    if isinstance(error, checkout.NoSuchProduct):
        return Problem(404, str(error))
    if isinstance(error, checkout.CheckoutUnavailable):
        return Problem(503, str(error), headers={"Retry-After": "5"})
    return Problem(409, str(error))


@bp.post("/v1/checkout")
@spec.validate(json=schemas.Empty, resp=_answers((201, schemas.CheckoutStarted), 409,
               token=True, also=(200, schemas.CheckoutStarted)), tags=["checkout"], security=TOKEN,
               operation_id="checkOut")  # fmt: skip
@access.needs_token
@idempotent
def start_checkout():
    """Check the cart out: a Stripe Checkout Session for it (or the open one for the same
    cart again, 200). Send the customer to `url` to pay; My Orders shows the order."""
    try:
        outcome = checkout.start_checkout(
            current_user, checkout.return_urls(), _ttl(), _currency(), languages.current()
        )
    except (checkout.CheckoutRefused, checkout.CheckoutUnavailable) as error:
        raise _checkout_problem(error) from None
    return _started(outcome)


@bp.post("/v1/products/<sku>/buy")
@spec.validate(json=schemas.BuyNow, resp=_answers((201, schemas.CheckoutStarted), 404, 409,
               token=True, also=(200, schemas.CheckoutStarted)), tags=["checkout"], security=TOKEN,
               operation_id="buyNow")  # fmt: skip
@access.needs_token
@idempotent
def buy_now(sku: str):
    """Buy `quantity` of one product now, in `currency` (the account's else): a Checkout
    Session for it alone, the cart left as it is."""
    body: schemas.BuyNow = request.context.json
    quantity = _quantity(body.quantity, 1)
    currency = _currency()
    if body.currency is not None:
        currency = currencies.chosen(body.currency)
        if currency is None:
            offered = " or ".join(code.upper() for code in currencies.offered())
            message = f"Choose a currency the shop sells in: {offered}."
            raise Problem(422, message, errors={"currency": [message]})
    if catalog.find_product(sku) is None:
        raise Problem(404, "That product does not exist.")
    try:
        outcome = checkout.buy_now(current_user, sku, quantity, currency, checkout.return_urls(),
                                   _ttl(), languages.current())  # fmt: skip
    except (checkout.CheckoutRefused, checkout.CheckoutUnavailable) as error:
        raise _checkout_problem(error) from None
    return _started(outcome)


# --- orders ----------------------------------------------------------------------------------


def _order(order) -> schemas.Order:
    """An order as the API shows it."""
    currency = order.currency
    now = utcnow()
    return schemas.Order(
        id=order.id,
        status=order.status,
        fulfilment=order.fulfilment,
        dispute=order.dispute,
        created_at=order.created_at,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        lines=[
            schemas.OrderLine(
                name=item.name,
                quantity=item.quantity,
                unit_price=_money(item.unit_price_cents, currency),
                line_total=_money(item.line_total_cents, currency),
            )
            for item in order.items
        ],
        subtotal=_money(order.subtotal_cents, currency),
        discount=_money(order.discount_cents, currency),
        tax=_money(order.tax_cents, currency),
        shipping=_money(order.shipping_cents, currency),
        total=_money(order.total_cents, currency),
        refunded=_money(order.refunded_cents, currency),
        code=order.promotion_code,
        payment_url=order.session_url if order.is_resumable(now) else None,
        expires_at=order.expires_at if order.status == OrderStatus.PENDING else None,
    )


@bp.get("/v1/orders")
@spec.validate(query=schemas.OrdersQuery, resp=_answers((200, schemas.OrderList), 404,
               token=True),
               tags=["orders"], security=TOKEN, operation_id="listOrders")  # fmt: skip
@access.needs_token
def list_orders():
    """The caller's orders, newest first."""
    query: schemas.OrdersQuery = request.context.query
    found = orders.list_orders(current_user.id)
    chosen, more = _page(found, lambda order: order.id, query.limit, query.starting_after)
    return _json(schemas.OrderList(data=[_order(o) for o in chosen], has_more=more))


def _own_order(order_id: int):
    """One of the caller's orders (anyone else's is a 404, as a missing one)."""
    order = orders.find_order(current_user.id, order_id)
    if order is None:
        raise Problem(404, "You have no order with that number.")
    return order


@bp.get("/v1/orders/<int:order_id>")
@spec.validate(resp=_answers((200, schemas.Order), 404, token=True), tags=["orders"],
               security=TOKEN, operation_id="getOrder")  # fmt: skip
@access.needs_token
def get_order(order_id: int):
    """One of the caller's orders, with its lines and totals."""
    return _json(_order(_own_order(order_id)))


@bp.post("/v1/orders/<int:order_id>/cancel")
@spec.validate(json=schemas.Empty, resp=_answers((200, schemas.Order), 404, 409, token=True),
               tags=["orders"], security=TOKEN, operation_id="cancelOrder")  # fmt: skip
@access.needs_token
@idempotent
def cancel_order(order_id: int):
    """Cancel a pending order: its session at Stripe is expired and its units go back on
    sale. Stripe's word wins: an order paid meanwhile is recorded and answered as paid.
    An order that is not pending is a 409."""
    order = _own_order(order_id)
    if order.status != OrderStatus.PENDING:
        raise Problem(409, f"Order {order_id} is {order.status}, not pending: nothing to cancel.")
    closed = checkout.cancel_checkout(current_user.id, order_id)
    if closed.outcome == "unreachable":
        raise Problem(503, "Stripe could not be reached to close the payment page; try again.",
                      headers={"Retry-After": "5"})  # fmt: skip
    db_order = orders.find_order(current_user.id, order_id)
    if closed.outcome == "none" and db_order.status == OrderStatus.PENDING:
        raise Problem(409, f"Order {order_id} is still being prepared; try again in a moment.")
    return _json(_order(db_order))
