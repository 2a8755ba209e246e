"""What the JSON API takes and gives, as pydantic models: the one source of its validation,
its serialisation and the OpenAPI document (spectree reads the same classes).

Inputs forbid unknown fields (422 names them) and take JSON integers only (`2.5` and
`"2"` are refused). Money is always an integer in minor units with its currency.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr

#: Text the shop accepts: anything but NUL, which no name or number holds (and PostgreSQL
#: refuses in text); a NUL anywhere in a request is a 400.
NO_NUL = r"^[^\x00]*$"


def _not_text(value: object) -> object:
    """A whole number is a JSON number: `"2"` and `true` are refused; `2.0` is 2 (JSON
    Schema's integer), `2.5` is refused by the int itself."""
    if isinstance(value, (str, bool)):
        raise ValueError("Send a whole number.")
    return value


#: A JSON whole number.
Whole = Annotated[int, BeforeValidator(_not_text)]
#: The most items a list answers at once, and the default.
LIMIT_MAX, LIMIT_DEFAULT = 100, 20


class Input(BaseModel):
    """A request's body or query: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    """An answer's body."""

    model_config = ConfigDict(extra="forbid")


# --- inputs -----------------------------------------------------------------------------


class ProductsQuery(Input):
    q: str = Field(
        "", max_length=100, pattern=NO_NUL, description="Text the name or description contains."
    )
    limit: int = Field(LIMIT_DEFAULT, ge=1, le=LIMIT_MAX, description="Products per page.")
    starting_after: str | None = Field(
        None,
        max_length=64,
        pattern=NO_NUL,
        description="The SKU of the last product of the previous page.",
    )


class OrdersQuery(Input):
    limit: int = Field(LIMIT_DEFAULT, ge=1, le=LIMIT_MAX, description="Orders per page.")
    starting_after: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The id of the last order of the previous page."
    )


class AddItem(Input):
    sku: StrictStr = Field(min_length=1, max_length=64, pattern=NO_NUL)
    quantity: Whole = Field(1, description="Units to add (1 to CART_MAX_QUANTITY).")


class SetQuantity(Input):
    quantity: Whole = Field(description="The line's new quantity; 0 removes it.")


class Empty(Input):
    """No fields: the body may be empty or `{}`."""


class BuyNow(Input):
    quantity: Whole = Field(1, description="Units to buy (1 to CART_MAX_QUANTITY).")
    currency: StrictStr | None = Field(
        None,
        max_length=3,
        pattern=NO_NUL,
        description="An offered currency (`usd`, `eur`); the account's else.",
    )


# --- outputs ----------------------------------------------------------------------------


class Money(Output):
    amount: int = Field(description="Minor units (cents).")
    currency: str = Field(description="ISO 4217, lower case.")


class Product(Output):
    sku: str
    name: str
    description: str
    image_url: str
    price: Money | None = Field(description="Null when not sold in the currency asked.")
    units_left: int | None = Field(description="Null when stock is not tracked.")
    available: bool = Field(description="It can be added to a cart now.")


class ProductList(Output):
    object: Literal["list"] = "list"
    data: list[Product]
    has_more: bool


class CartLine(Output):
    sku: str
    name: str
    quantity: int
    unit_price: Money | None
    line_total: Money
    available: bool
    units_left: int | None


class Cart(Output):
    currency: str
    count: int = Field(description="Units in the cart.")
    lines: list[CartLine]
    subtotal: Money
    code: str | None = Field(description="The promotion code on the cart.")
    discount: Money
    total: Money
    code_problem: str | None = Field(description="Why the code no longer applies, if it does not.")
    can_check_out: bool


class CheckoutStarted(Output):
    order_id: int
    url: str = Field(description="Stripe Checkout's page: send the customer there to pay.")
    expires_at: datetime
    resumed: bool = Field(description="The open session for the same items, handed out again.")


class OrderLine(Output):
    name: str
    quantity: int
    unit_price: Money
    line_total: Money


class Order(Output):
    id: int
    status: Literal[
        "pending", "paid", "partially_refunded", "refunded", "failed", "expired", "cancelled"
    ]
    fulfilment: Literal["unfulfilled", "shipped"]
    dispute: Literal["open", "won", "lost"] | None
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    lines: list[OrderLine]
    subtotal: Money
    discount: Money
    tax: Money
    shipping: Money
    total: Money
    refunded: Money
    code: str | None
    payment_url: str | None = Field(description="Stripe's page while the order can be paid.")
    expires_at: datetime | None


class OrderList(Output):
    object: Literal["list"] = "list"
    data: list[Order]
    has_more: bool


class Problem(Output):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    errors: dict[str, list[str]] | None = Field(
        None, description="For a 422: the messages for each bad field."
    )
