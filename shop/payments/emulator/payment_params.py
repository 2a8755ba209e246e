"""Checks of the PaymentIntent, Charge, Refund and Event endpoints."""

from typing import Any

from . import errors
from .params import (
    MAX_AMOUNT,
    PAGE,
    choice,
    created_range,
    expand,
    integer,
    metadata,
    only,
    optional_string,
    page,
    present,
)

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
#: Stripe caps `types[]` at 20 event types per list call.
MAX_TYPES = 20


def retrieve_params(params: dict[str, Any], expandable: set[str]) -> list[str]:
    """Validate a retrieve (only `expand`); the properties to expand."""
    only(params, {"expand"})
    return expand(params.get("expand"), expandable)


def create_refund_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate `POST /v1/refunds`: what to refund, how much, why."""
    only(params, {"payment_intent", "charge", "amount", "reason", "metadata", "expand"})
    intent = optional_string(params, "payment_intent", 255)
    charge = optional_string(params, "charge", 255)
    if intent is None and charge is None:
        raise errors.ApiError(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
        )
    if intent is not None and charge is not None:
        raise errors.invalid(
            "charge",
            "You cannot specify both a charge and a payment_intent. Please specify one of them.",
        )
    reason = params.get("reason")
    amount = params.get("amount")
    return {
        "payment_intent": intent,
        "charge": charge,
        "amount": integer(amount, "amount", 1, MAX_AMOUNT) if present(amount) else None,
        "reason": choice(reason, "reason", REASONS) if present(reason) else None,
        "metadata": metadata(params.get("metadata")),
        "expand": expand(params.get("expand"), {"charge", "payment_intent"}),
    }


def list_refunds_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate `GET /v1/refunds`: a page, optionally of one charge or PaymentIntent."""
    only(params, PAGE | {"payment_intent", "charge", "created", "expand"})
    return {
        **page(params),
        "payment_intent": optional_string(params, "payment_intent", 255),
        "charge": optional_string(params, "charge", 255),
        "created": created_range(params.get("created")),
        "expand": [
            name.removeprefix("data.")
            for name in expand(params.get("expand"), {"data.charge", "data.payment_intent"})
        ],
    }


def _event_type(value: Any, param: str) -> str:
    """An event type, or a group of them with `*` (`refund.*`)."""
    name = optional_string({param: value}, param, 255)
    if name is None:
        raise errors.missing(param)
    return name


def list_events_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate `GET /v1/events`: a page, `type` or `types[]`, and `created`."""
    only(params, PAGE | {"type", "types", "created", "delivery_success"})
    if present(params.get("type")) and present(params.get("types")):
        raise errors.invalid("types", "You may only specify one of these parameters: type, types.")
    types = params.get("types")
    if present(types):
        if not isinstance(types, list):
            raise errors.invalid("types", "Invalid array: types must be a list")
        if len(types) > MAX_TYPES:
            raise errors.invalid("types", f"You may only specify up to {MAX_TYPES} types.")
        names = [_event_type(name, f"types[{i}]") for i, name in enumerate(types)]
    elif present(params.get("type")):
        names = [_event_type(params["type"], "type")]
    else:
        names = []
    success = params.get("delivery_success")
    return {
        **page(params),
        "types": names,
        "created": created_range(params.get("created")),
        "delivery_success": (choice(success, "delivery_success", ("true", "false")) == "true")
        if present(success)
        else None,
    }
