"""htmx helpers: tell fragment requests from page loads and answer each properly."""

from collections.abc import Iterable
from functools import lru_cache

from flask import Response, current_app, make_response, render_template, request
from jinja2 import Environment, nodes
from jinja2_fragments import BlockNotFoundError
from jinja2_fragments.flask import render_block


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
    return respond(render_text(template, blocks, **context), status)


def render_text(template: str, blocks: Iterable[str] = (), **context) -> str:
    """The HTML `render` answers with: the named blocks for htmx, else the whole page."""
    blocks = list(blocks)
    if blocks and is_htmx():
        return "".join(
            render_block(_block_owner(template, name), name, **context) for name in blocks
        )
    return render_template(template, **context)


def respond(body: str, status: int = 200) -> Response:
    """A rendered page or fragment as a response that varies by `HX-Request`."""
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def _block_owner(template: str, block: str) -> str:
    """The template that defines `block` for the page `template`: itself or its nearest parent.

    jinja2-fragments only sees the blocks a template defines itself; the page's inherited
    blocks (the header badge of base.html, say) are fragments of the page too.
    """
    env = current_app.jinja_env
    name: str | None = template
    while name is not None:
        if block in env.get_template(name).blocks:
            return name
        name = _parent_of(env, name)
    raise BlockNotFoundError(block, template)


@lru_cache(maxsize=64)
def _parent_of(env: Environment, template: str) -> str | None:
    """The literal `{% extends "..." %}` target of `template`, if any (parsed once)."""
    source = env.loader.get_source(env, template)[0]
    extends = env.parse(source).find(nodes.Extends)
    if extends is not None and isinstance(extends.template, nodes.Const):
        return extends.template.value
    return None


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


def hx_push_url(response: Response, url: str) -> Response:
    """Put `url` in the address bar and history instead of the one htmx would push (e.g. the
    canonical form of a filter, without its empty fields)."""
    response.headers["HX-Push-Url"] = url
    return response
