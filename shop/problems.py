"""RFC 9457 problem details: how every answer under `/api/` says what went wrong.

`shop.errors` answers a page's errors with a toast or a page; under `/api/` (an unknown
route there too) it answers with `problem()` instead, so a 404, 405, 413, 429 or 500 of the
JSON API is JSON whichever layer raised it.
"""

import json
from http import HTTPStatus

from flask import Response, has_request_context, request

MEDIA_TYPE = "application/problem+json"
#: Every path the JSON API answers (the spec and its docs page included).
API_PREFIX = "/api/"


def under_api() -> bool:
    """Whether this request is one of the JSON API's."""
    return has_request_context() and request.path.startswith(API_PREFIX)


def title_of(status: int) -> str:
    """The HTTP reason phrase: the title RFC 9457 gives a problem of type about:blank."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(
    status: int,
    detail: str,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json answer: `type` about:blank, the status's `title`, our `detail`, and
    for a 422 the messages by field (`errors`)."""
    body = {"type": "about:blank", "title": title_of(status), "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class Problem(Exception):
    """Raised anywhere in an API view: answered as `problem(...)` with these values."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers

    def response(self) -> Response:
        """This problem as an answer."""
        return problem(self.status, self.detail, self.errors, self.headers)
