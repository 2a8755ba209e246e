"""Absolute urls, always on the shop's public address (PUBLIC_URL), never on the Host a
request happened to name; and the guard that answers 400 to requests for any other host."""

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for
from werkzeug.exceptions import BadRequest, SecurityError
from werkzeug.sansio.utils import host_is_trusted
from werkzeug.wsgi import get_host

from .security import SECURITY_HEADERS

#: Answered whatever the Host: a PaaS or load balancer checks it by an internal address,
#: and it builds no url.
UNGUARDED_PATHS = frozenset({"/healthz"})


def safe_next(target: str | None) -> str:
    """`target` if it is a same-site relative path, else the home page."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return url_for("catalog.index")
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return url_for("catalog.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("catalog.index")
    return target


def public_base() -> str:
    """`scheme://host[:port]` of the shop: PUBLIC_URL once it is set (the host guard is then
    on); in development the request's own, or the local server with no request at hand."""
    if not current_app.config["ALLOWED_HOSTS"] and has_request_context():
        return request.host_url.rstrip("/")
    return current_app.config["PUBLIC_URL"]


def external_url(endpoint: str, **values) -> str:
    """The absolute url of `endpoint` on the public address (Stripe's return urls, emails)."""
    base = public_base()
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context(base_url=base):
        return base + url_for(endpoint, **values)


class TrustedHosts:
    """WSGI layer: requests naming a host other than the allowed ones get a bare 400.

    It sits outside static files and the app, inside ProxyFix (so `X-Forwarded-Host` from
    the router is what is checked) and the request log (so refusals are logged).
    """

    def __init__(self, app: Callable, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = tuple(hosts)
        if not self.hosts:  # werkzeug would read an empty list as "any host"
            raise ValueError("TrustedHosts needs at least one host")

    def __call__(self, environ, start_response):
        """Pass the request on, or refuse it before anything builds a url from its Host."""
        if environ.get("PATH_INFO") in UNGUARDED_PATHS or self.trusted(environ):
            return self.app(environ, start_response)
        refusal = BadRequest("Unknown host.").get_response(environ)
        refusal.headers.update(SECURITY_HEADERS)
        return refusal(environ, start_response)

    def trusted(self, environ) -> bool:
        """Whether the request's host (port aside) is one of ours."""
        try:
            return host_is_trusted(get_host(environ), self.hosts)
        except SecurityError:  # a malformed Host: not ours either
            return False
