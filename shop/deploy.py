"""What running behind a PaaS router needs: proxy headers, HSTS, static files, request logs.

The WSGI layers, outermost first: ProxyFix (production, FORWARDED_ALLOW_HOPS ≥ 1) restores
the client's scheme, host and address from the router's `X-Forwarded-*` headers; the request log
then sees them, tags the request with its id, logs one line and counts it in the request
metrics (`shop.metrics`); the host guard (when PUBLIC_URL is set) refuses requests for
other hosts; WhiteNoise answers static files; Flask answers the rest.
"""

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import logs, metrics, static_files
from .urls import TrustedHosts


def init_app(app: Flask) -> None:
    """Install logging, static file serving, the host guard, the request log and metrics,
    ProxyFix, HSTS."""
    logs.configure(app)
    static_files.init_app(app)
    if app.config["ALLOWED_HOSTS"]:
        app.wsgi_app = TrustedHosts(app.wsgi_app, app.config["ALLOWED_HOSTS"])
    app.wsgi_app = logs.RequestLogMiddleware(app.wsgi_app, observe=metrics.observe_request)
    hops = app.config["FORWARDED_ALLOW_HOPS"]
    if app.config["PROXY_FIX"] and hops:
        # Each proxy in front appends the address it saw to X-Forwarded-For: the last `hops`
        # entries are the proxies' word, anything before them the client's own (forgeable).
        # Scheme and host are set by the proxy nearest the app, the one router.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=1, x_host=1)
    if app.config["HSTS_SECONDS"]:
        app.after_request(strict_transport_security)


def strict_transport_security(response):
    """Tell browsers to use https only, on https responses (browsers ignore it over http)."""
    # No includeSubDomains: the shop may live on one subdomain of a domain it does not own.
    if request.is_secure:
        seconds = current_app.config["HSTS_SECONDS"]
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}")
    return response
