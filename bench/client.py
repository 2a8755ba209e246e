"""A plain HTTP client for the running shop: log in like a browser, sign a webhook.

Cookies are handled by hand: in production the session cookie is `Secure`, which a
cookie jar would not send over http://127.0.0.1, yet it is just a header to wrk.
"""

import gzip
import http.client
import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from shop.payments.emulator.events import sign

#: Sent with every request: Flask-Login ties the session to the client's address and
#: user agent, so the login and the load must look like the same browser.
USER_AGENT = "northside-bench/1"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Response:
    """Status, headers (lower-case names, all values) and the raw (possibly compressed) body."""

    status: int
    headers: dict[str, list[str]]
    raw: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def text(self) -> str:
        """The body as text, decompressed if it came gzipped."""
        body = self.raw
        if self.header("content-encoding") == "gzip":
            body = gzip.decompress(body)
        return body.decode("utf-8", "replace")


@dataclass
class Browser:
    """One client of one server, keeping its cookies."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes = b"", headers=None) -> Response:
        """Send one request and keep the cookies the answer sets."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body or None, headers=self.headers(headers))
            answer = connection.getresponse()
            collected: dict[str, list[str]] = {}
            for name, value in answer.getheaders():
                collected.setdefault(name.lower(), []).append(value)
            response = Response(answer.status, collected, answer.read())
        finally:
            connection.close()
        for cookie in response.headers.get("set-cookie", []):
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return response

    def headers(self, extra=None) -> dict[str, str]:
        """User agent and cookies, plus `extra`."""
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**headers, **(extra or {})}

    def login(self, email: str, password: str) -> str:
        """Log in through the real form; returns the CSRF token the shop page then carries."""
        token = csrf_token(self.request("GET", "/login").text)
        form = urlencode({"email": email, "password": password, "csrf_token": token})
        answer = self.request(
            "POST",
            "/login",
            form.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if answer.status != 302:
            raise RuntimeError(f"bench login failed with {answer.status}")
        # The first page after login stores the CSRF secret in the session (a new cookie);
        # from then on the session does not change, so wrk can replay one cookie.
        return csrf_token(self.request("GET", "/").text)


def csrf_token(html: str) -> str:
    """The token from a page's `<meta name="csrf-token">`."""
    match = CSRF_META.search(html)
    if not match:
        raise RuntimeError("no csrf-token meta in the page")
    return match.group(1)


def signed_event(event: dict, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body and `Stripe-Signature` header Stripe would send for `event`."""
    payload = json.dumps(event)
    stamp = int(time.time()) if timestamp is None else timestamp
    return payload.encode(), sign(payload, secret, stamp)
