"""htmx helpers: tell fragment requests from page loads and answer each properly."""

from collections.abc import Iterable

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_blocks


def is_htmx() -> bool:
    """True for an htmx request that wants a fragment (not a history restore)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, blocks: Iterable[str] = (), status: int = 200, **context) -> Response:
    """Render the whole page, or only the named blocks of it for htmx requests.

    The answer differs by `HX-Request`, so it says so in `Vary` for caches.
    """
    blocks = list(blocks)
    if blocks and is_htmx():
        body = render_blocks(template, blocks, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def hx_redirect(location: str, status: int = 200) -> Response:
    """Send the browser elsewhere: `HX-Redirect` for htmx (it ignores 3xx), else a 303."""
    if is_htmx():
        response = make_response("", status)
        response.headers["HX-Redirect"] = location
    else:
        response = make_response("", 303)
        response.headers["Location"] = location
    response.vary.add("HX-Request")
    return response


def hx_trigger(response: Response, event: str) -> Response:
    """Announce `event` to the page so other components can react to the change."""
    existing = response.headers.get("HX-Trigger")
    response.headers["HX-Trigger"] = f"{existing}, {event}" if existing else event
    return response
