"""Security headers on every kind of response, and pages the CSP does not break."""

from html.parser import HTMLParser

import pytest

from conftest import csrf_token


def directives(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: [sources]}."""
    policy = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_security_headers(response):
    """The headers DESIGN.md requires on every response."""
    csp = directives(response)
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert set(csp["form-action"]) == {"'self'", "https://checkout.stripe.com"}
    for source in csp["style-src"] + csp["default-src"]:
        assert "unsafe" not in source
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"strict-origin-when-cross-origin", "same-origin"}
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_page_carries_the_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert_security_headers(response)


def test_a_fragment_carries_them(client, seeded):
    response = client.get("/?q=beans", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert_security_headers(response)


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}], ids=["page", "toast"])
def test_error_answers_carry_them(client, headers):
    assert_security_headers(client.get("/no-such-page", headers=headers))
    assert_security_headers(client.get("/logout", headers=headers))  # 405
    bad = client.post("/login", headers=headers, data={"email": "a@example.com"})
    assert bad.status_code == 400
    assert_security_headers(bad)


@pytest.mark.parametrize("path", ["/healthz", "/favicon.ico", "/static/js/shop.js", "/login"])
def test_other_responses_carry_them(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert_security_headers(response)


def test_a_redirect_carries_them(user, client):
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert_security_headers(response)


class InlineCode(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, styles and handlers."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        """Note inline <script>, <style>, style="..." and on*="..." attributes."""
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name in {"href", "src", "action"} and (value or "").startswith("javascript:"):
                self.found.append(f"javascript: url on <{tag}>")


def inline_code(html: str) -> list[str]:
    """What in `html` the shop's CSP would refuse to run or apply."""
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("path", ["/", "/?q=kettle", "/login", "/register", "/no-such-page"])
def test_pages_need_no_inline_script_or_style(client, seeded, path):
    assert inline_code(client.get(path).get_data(as_text=True)) == []


def test_signed_in_page_needs_no_inline_script_or_style(user, client, seeded):
    assert inline_code(client.get("/").get_data(as_text=True)) == []


def test_htmx_is_configured_to_need_neither_inline_styles_nor_eval(client):
    html = client.get("/").get_data(as_text=True)
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html
