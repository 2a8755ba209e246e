"""Stripe's error objects: `{"error": {"type", "code", "message", "param"}}` with a status.

The SDK picks its exception class from the status and `type`, so these must match
what Stripe sends for the same mistake.
"""

from typing import Any

INVALID_REQUEST = "invalid_request_error"


class ApiError(Exception):
    """An error answer of the emulated API."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        type: str = INVALID_REQUEST,
        code: str | None = None,
        param: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        """The JSON body Stripe answers with."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(param: str) -> ApiError:
    """A required parameter is absent (or empty, which Stripe reads as absent)."""
    return ApiError(f"Missing required param: {param}.", code="parameter_missing", param=param)


def unknown(param: str) -> ApiError:
    """A parameter the endpoint does not take."""
    return ApiError(f"Received unknown parameter: {param}", code="parameter_unknown", param=param)


def invalid_integer(param: str, value: str) -> ApiError:
    """A value that is not a whole number."""
    return ApiError(f"Invalid integer: {value}", code="parameter_invalid_integer", param=param)


def out_of_range(param: str, *, minimum: int | None = None, maximum: int | None = None):
    """A whole number outside the allowed range."""
    if minimum is not None:
        message = f"This value must be greater than or equal to {minimum}."
    else:
        message = f"This value must be less than or equal to {maximum}."
    return ApiError(message, code="parameter_invalid_integer", param=param)


def invalid(param: str, message: str, code: str | None = None) -> ApiError:
    """Any other invalid value, in Stripe's words."""
    return ApiError(message, code=code, param=param)


def no_such(kind: str, object_id: str, param: str = "id") -> ApiError:
    """An id that does not exist (404 `resource_missing`)."""
    return ApiError(
        f"No such {kind}: '{object_id}'", status=404, code="resource_missing", param=param
    )


def unrecognized_url(method: str, path: str) -> ApiError:
    """A path or method the API does not have."""
    return ApiError(
        f"Unrecognized request URL ({method.upper()}: {path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        status=404,
    )


def idempotency_conflict(key: str) -> ApiError:
    """The same idempotency key sent again with different parameters or endpoint."""
    return ApiError(
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
        type="idempotency_error",
        code="idempotency_error",
    )


def api_key_missing() -> ApiError:
    """No key in the Authorization header."""
    return ApiError(
        "You did not provide an API key. You need to provide your API key in the "
        "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
        "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
        "or we can help at https://support.stripe.com/.",
        status=401,
    )


def api_key_invalid(key: str) -> ApiError:
    """A key that is not the emulator's; masked as Stripe masks it."""
    masked = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else "****"
    return ApiError(f"Invalid API Key provided: {masked}", status=401)


def api_error(message: str = "An unknown error occurred") -> ApiError:
    """Stripe's side failed (500 `api_error`)."""
    return ApiError(message, status=500, type="api_error")
