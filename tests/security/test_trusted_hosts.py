"""Issue #22, finding 4: absolute urls come from PUBLIC_URL, and requests naming any other
host (in `Host` or, behind the router, `X-Forwarded-Host`) are refused with 400."""

import pytest

from checkout_helpers import orders
from conftest import PASSWORD, PUBLIC_URL, csrf_token_of
from shop.payments import gateway

EVIL = "https://evil.example"


def sign_in(client, base_url: str = PUBLIC_URL, **headers) -> str:
    """Log ada in through the form at `base_url`; the page's CSRF token after."""
    page = client.get("/login", base_url=base_url, headers=headers)
    assert page.status_code == 200, page.status_code
    answer = client.post(
        "/login",
        base_url=base_url,
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "csrf_token": csrf_token_of(page.text),
        },
        headers={"Referer": base_url + "/login", **headers},
    )
    assert answer.status_code == 302, answer.text
    return csrf_token_of(client.get("/", base_url=base_url, headers=headers).text)


@pytest.fixture
def shop(production_app):
    """The shop as production runs it, at https://shop.example.com (an alias allowed too)."""
    return production_app(TRUSTED_HOSTS="www.shop.example.com")


@pytest.mark.parametrize("path", ["/", "/login", "/cart", "/static/js/shop.js", "/nowhere"])
def test_a_request_for_another_host_is_400(shop, path):
    response = shop.test_client().get(path, base_url=EVIL)
    assert response.status_code == 400
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "evil.example" not in response.get_data(as_text=True)


def test_a_forwarded_host_is_checked_too(shop):
    client = shop.test_client()
    forged = client.get("/", base_url=PUBLIC_URL, headers={"X-Forwarded-Host": "evil.example"})
    assert forged.status_code == 400
    ours = client.get(
        "/", base_url="http://10.1.2.3", headers={"X-Forwarded-Host": "shop.example.com"}
    )
    assert ours.status_code == 200


def test_the_public_host_and_its_aliases_are_served(shop):
    client = shop.test_client()
    assert client.get("/", base_url=PUBLIC_URL).status_code == 200
    page = client.get("/", base_url="https://www.shop.example.com")
    assert page.status_code == 200
    # The canonical url names the public address, whichever alias was asked.
    assert f'<link rel="canonical" href="{PUBLIC_URL}/">' in page.text


def test_the_health_check_answers_on_any_host(shop):
    """Platforms probe it by an internal address; it builds no url."""
    response = shop.test_client().get("/healthz", base_url="http://10.0.0.7:5000")
    assert (response.status_code, response.text) == (200, "ok")


def test_checkout_return_urls_use_the_public_address(shop, auth, seeded):
    auth.create_user()
    client = shop.test_client()
    token = sign_in(client, "https://www.shop.example.com")
    add_headers = {"X-CSRFToken": token, "Referer": "https://www.shop.example.com/"}
    client.post(
        "/cart/items",
        base_url="https://www.shop.example.com",
        data={"product_id": seeded["BEAN-ETH-250"]},
        headers=add_headers,
    )
    answer = client.post(
        "/checkout",
        base_url="https://www.shop.example.com",
        headers={"HX-Request": "true", **add_headers},
    )
    assert answer.status_code == 200, answer.text
    [order] = orders(shop)
    with shop.test_request_context(base_url=PUBLIC_URL):
        session = gateway.retrieve_checkout_session(order.stripe_session_id)
    success, cancel = session["success_url"], session["cancel_url"]
    assert success == f"{PUBLIC_URL}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}"
    assert cancel == f"{PUBLIC_URL}/checkout/cancel"
    assert answer.headers["HX-Redirect"].startswith(f"{PUBLIC_URL}/emulator/checkout/cs_")


def test_an_evil_host_cannot_start_a_checkout(shop, auth, seeded):
    auth.create_user()
    client = shop.test_client()
    token = sign_in(client)
    headers = {"X-CSRFToken": token, "Referer": f"{PUBLIC_URL}/"}
    client.post(
        "/cart/items",
        base_url=PUBLIC_URL,
        data={"product_id": seeded["BEAN-ETH-250"]},
        headers=headers,
    )
    answer = client.post("/checkout", base_url=EVIL, headers={"HX-Request": "true", **headers})
    assert answer.status_code == 400
    assert orders(shop) == []
