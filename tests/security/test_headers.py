"""Security headers on every kind of response, and pages the CSP does not break."""

import re
from html.parser import HTMLParser

import pytest

from conftest import app_config, csrf_token
from shop import create_app
from shop.security import CONTENT_SECURITY_POLICY


def directives(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: [sources]}."""
    policy = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_security_headers(response):
    """The headers every response must carry (docs/architecture.md, Routes; shop/security.py)."""
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


# --- the areas added since: cart, checkout, orders, webhook, emulator -----------------------


@pytest.fixture
def hosted_page(app, user, client, seeded):
    """The path of the signed-in customer's hosted checkout page (emulator)."""
    token = csrf_token(client)
    data = {"product_id": seeded["MUG-STONE"], "csrf_token": token}
    assert client.post("/cart/items", data=data).status_code == 303
    response = client.post("/checkout", data={"csrf_token": token})
    assert response.status_code == 303
    assert_security_headers(response)
    return response.headers["Location"].removeprefix("http://localhost")


def test_the_cart_fragment_and_orders_page_carry_them(user, client):
    fragment = client.get("/cart", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert_security_headers(fragment)
    assert_security_headers(client.get("/orders"))


def test_the_hosted_checkout_page_carries_them_and_needs_no_inline_code(client, hosted_page):
    response = client.get(hosted_page)
    assert response.status_code == 200
    assert_security_headers(response)
    html = response.get_data(as_text=True)
    assert inline_code(html) == []
    # The pay form posts to this same host ('self' in form-action) and, paid, is sent back
    # to the shop's own success page: no JavaScript and no other origin on the way.
    action = re.search(r'<form class="pay-form" method="post" action="([^"]+)"', html)[1]
    assert action == hosted_page
    token = csrf_token(client, hosted_page)
    paid = client.post(action, data={"card_number": "4242424242424242", "csrf_token": token})
    assert paid.status_code == 303
    assert paid.headers["Location"].startswith("http://localhost/checkout/success?session_id=")
    assert_security_headers(paid)
    success = client.get(paid.headers["Location"].removeprefix("http://localhost"))
    assert success.status_code == 200 and inline_code(success.get_data(as_text=True)) == []
    assert_security_headers(success)


def test_a_declined_payment_page_carries_them(client, hosted_page):
    token = csrf_token(client, hosted_page)
    declined = client.post(
        hosted_page, data={"card_number": "4000000000000002", "csrf_token": token}
    )
    assert declined.status_code == 402
    assert_security_headers(declined)


def test_json_answers_carry_them(app, client):
    webhook = client.post("/stripe/webhook", data="{}", headers={"Stripe-Signature": "t=1,v1=0"})
    assert webhook.status_code == 400 and webhook.is_json
    assert_security_headers(webhook)
    api = client.get("/emulator/stripe/v1/checkout/sessions")
    assert api.status_code == 401 and api.is_json  # no key
    assert_security_headers(api)


def test_a_429_carries_them(migrated):
    app = create_app(app_config(migrated, LOGIN_ACCOUNT_RATE_LIMIT="1 per minute"))
    client = app.test_client()
    for _ in range(2):
        token = csrf_token(client, "/login")
        data = {"email": "ada@example.com", "password": "wrong password", "csrf_token": token}
        response = client.post("/login", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert_security_headers(response)


def test_real_stripe_checkout_is_an_allowed_form_destination():
    """Without JavaScript the Checkout button's POST is answered with a 303 to Stripe's host;
    browsers apply form-action to that redirect, so the host must be listed."""
    assert "https://checkout.stripe.com" in CONTENT_SECURITY_POLICY["form-action"].split()


@pytest.mark.parametrize("path", ["/cart", "/orders", "/checkout/cancel"])
def test_signed_in_modals_need_no_inline_script_or_style(user, client, seeded, path):
    assert inline_code(client.get(path).get_data(as_text=True)) == []


# --- issue #22, finding 6: nothing a signed-in customer sees is cached ------------------------


@pytest.mark.parametrize("path", ["/", "/cart", "/orders", "/?q=beans"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_signed_in_pages_and_fragments_are_no_store(client, user, path, htmx):
    response = client.get(path, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_a_cart_change_is_no_store_too(client, user, seeded):
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_token(client)}
    response = client.post("/cart/items", data={"product_id": seeded["MUG-STONE"]}, headers=headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable_for_a_signed_in_customer(client, user):
    assert client.get("/static/js/shop.js").headers.get("Cache-Control") != "no-store"
