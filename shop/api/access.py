"""Who calls the JSON API, how often, and with what body: checked before any view runs.

- The caller is the owner of the bearer token (`Authorization: Bearer nsr_...`); cookies
  are never read, so the page's session cookie signs nobody in here and no CSRF token is
  needed. A bad, unknown or revoked token is a 401, whatever the route.
- Every request counts against API_IP_RATE_LIMIT per address, and a token's against
  API_TOKEN_RATE_LIMIT per token: over either, a 429 with `Retry-After`.
- A body must be one JSON object (415 for another media type, 400 for malformed JSON).
"""

import json
from collections.abc import Callable

from flask import current_app, g, request

from .. import languages, security
from ..auth import tokens
from ..problems import Problem

#: What a 401 tells the client about the scheme it must use (RFC 6750).
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}
BAD_TOKEN = "That token is not valid: it is unknown or was revoked. Make one on your account page."
NO_TOKEN = "This needs a personal access token: send `Authorization: Bearer <token>`."
#: Media types a body may have (`application/json` and any `+json` type).
JSON_TYPES = ("application/json",)


def caller_token() -> int | None:
    """The id of the token this request came with (None: a public request)."""
    return g.get("api_token_id")


def before_request() -> None:
    """Resolve the caller, count the request, and check the body (see the module)."""
    # Before anything reads current_user: the session cookie is never consulted here.
    g._login_user = current_app.login_manager.anonymous_user()
    # The language is the client's to ask for (`Accept-Language`), as HTTP has it: English
    # unless it asks for German; not the account's, so a script's answers never change
    # with a choice made on the page.
    g.language = request.accept_languages.best_match(languages.OFFERED) or languages.DEFAULT
    _limit("API_IP_RATE_LIMIT", security.client_ip())
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Problem(401, BAD_TOKEN, headers=CHALLENGE)
        caller = tokens.authenticate(secret.strip())
        if caller is None:
            raise Problem(401, BAD_TOKEN, headers=CHALLENGE)
        _limit("API_TOKEN_RATE_LIMIT", str(caller.token_id))
        g._login_user = caller.user
        g.api_token_id = caller.token_id
    elif getattr(current_app.view_functions.get(request.endpoint), "needs_token", False):
        raise Problem(401, NO_TOKEN, headers=CHALLENGE)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        _check_body()


def _limit(setting: str, who: str) -> None:
    """A 429 when `who` is over the `setting` limit."""
    wait = security.take_api(setting, who)
    if wait is not None:
        detail = f"Too many requests; wait {wait} seconds and try again."
        raise Problem(429, detail, headers={"Retry-After": str(wait)})


def _check_body() -> None:
    """An empty body, or one JSON object with no NUL character in any string."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return
    mimetype = request.mimetype
    if mimetype not in JSON_TYPES and not mimetype.endswith("+json"):
        raise Problem(415, "Send the body as JSON (Content-Type: application/json).")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Problem(422, "The body must be a JSON object.", errors={"body": ["Send an object."]})
    if _has_nul(body):
        raise Problem(400, "That request contains characters the shop does not accept.")


def _has_nul(value: object) -> bool:
    """Whether any string in the decoded JSON (keys included) holds a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def needs_token(view: Callable) -> Callable:
    """Mark a view as taking a token: without one, `before_request` answers 401 (with the
    Bearer challenge) before the body is even validated. The mark survives the wrappers
    (functools.wraps copies it)."""
    view.needs_token = True
    return view
