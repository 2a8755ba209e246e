"""A form sent after its session ended (a logout in another tab, cookies that expired) is
answered "You were signed out; log in again", with the way back to the page; the cart,
which lives on the account, is as it was after logging in again."""

from cart_helpers import cart_lines

from checkout_helpers import add
from conftest import csrf_token

SIGNED_OUT = "You were signed out; log in again."


def log_out_elsewhere(client):
    """Another tab of the same browser logs out: this page's token is left stale."""
    client.post("/logout", data={"csrf_token": csrf_token(client)})


def test_an_htmx_form_after_a_logout_elsewhere_goes_to_log_in_and_back(
    app, auth, client, user, seeded
):
    beans = seeded["BEAN-ETH-250"]
    add(client, beans, quantity=2)
    stale = csrf_token(client, "/products/BEAN-ETH-250")
    log_out_elsewhere(client)
    response = client.post(
        "/cart/items",
        data={"product_id": beans, "quantity": 1},
        headers={
            "HX-Request": "true",
            "X-CSRFToken": stale,
            "Referer": "http://localhost/products/BEAN-ETH-250",
        },
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/products/BEAN-ETH-250"
    login_page = client.get(response.headers["HX-Redirect"]).get_data(as_text=True)
    assert SIGNED_OUT in login_page and "form expired" not in login_page
    back = auth.login(next="/products/BEAN-ETH-250")
    assert back.headers["Location"] == "/products/BEAN-ETH-250"
    assert cart_lines(app, user) == {beans: 2}  # kept; the refused add changed nothing


def test_a_plain_form_after_its_cookies_expired_is_sent_to_log_in(client, user, seeded):
    stale = csrf_token(client, "/cart")
    client.delete_cookie("session")  # as when the browser dropped its cookies
    response = client.post(
        f"/cart/items/{seeded['BEAN-ETH-250']}",
        data={"quantity": 3, "csrf_token": stale},
        headers={"Referer": "http://localhost/cart"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/cart"


def test_a_referrer_from_another_site_is_not_followed(client, user):
    log_out_elsewhere(client)
    response = client.post(
        "/account/logout-everywhere",
        data={"csrf_token": "stale"},
        headers={"Referer": "https://evil.example/phish"},
    )
    assert response.headers["Location"] == "/login?next=/"


def test_a_visitors_stale_login_form_still_says_it_expired(client):
    response = client.post(
        "/login", data={"email": "ada@example.com", "password": "x", "csrf_token": "stale"}
    )
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)


def test_a_signed_in_customers_stale_form_still_says_it_expired(client, user):
    response = client.post("/cart/items", data={"product_id": 1, "csrf_token": "stale"})
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)


def test_a_form_without_any_token_is_refused_not_sent_to_log_in(client, seeded):
    """Nothing shows the form came from a page of ours: plain 400, no redirect."""
    response = client.post("/cart/items", data={"product_id": seeded["BEAN-ETH-250"]})
    assert response.status_code == 400 and "Location" not in response.headers
