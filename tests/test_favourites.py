"""Favourites: the heart toggles in place (htmx) or by a plain form, the modal lists them
with "Move to cart", hidden products stay listed as unavailable, and the shop page costs
the same statements with 0, 1 or 50 favourites."""

import re

import pytest
from cart_helpers import cart_lines, make_products, set_active

from conftest import count_queries, csrf_token

HTMX = {"HX-Request": "true"}


def toggle(client, product_id, htmx: bool = True, **extra):
    """Press a product's heart."""
    token = csrf_token(client)
    headers = {**HTMX, "X-CSRFToken": token} if htmx else {}
    data = {"product_id": product_id, "csrf_token": token, **extra}
    return client.post("/favourites", data=data, headers=headers)


def hearts(html: str) -> dict[str, str]:
    """Each heart form's product id -> its aria-pressed."""
    return dict(re.findall(r'id="heart-card-(\d+)".*?aria-pressed="(true|false)"', html, re.S))


def test_the_heart_toggles_in_place_with_its_pressed_state(app, client, user, seeded):
    beans = seeded["BEAN-ETH-250"]
    assert hearts(client.get("/").get_data(as_text=True))[str(beans)] == "false"
    pressed = toggle(client, beans, where="card", next="/")
    html = pressed.get_data(as_text=True)
    assert pressed.status_code == 200
    assert f'id="heart-card-{beans}"' in html and 'aria-pressed="true"' in html
    assert "Favourite: Ethiopia Yirgacheffe, 250 g" in html  # its accessible name
    assert "added to your favourites" in html
    assert hearts(client.get("/").get_data(as_text=True))[str(beans)] == "true"
    released = toggle(client, beans).get_data(as_text=True)
    assert 'aria-pressed="false"' in released and "removed from your favourites" in released
    assert hearts(client.get("/").get_data(as_text=True))[str(beans)] == "false"


def test_without_javascript_the_heart_is_a_form_that_comes_back(app, client, user, seeded):
    kettle = seeded["GEAR-KETTLE"]
    answer = toggle(client, kettle, htmx=False, next="/products/GEAR-KETTLE")
    assert answer.status_code == 303 and answer.headers["Location"] == "/products/GEAR-KETTLE"
    page = client.get("/products/GEAR-KETTLE").get_data(as_text=True)
    assert f'id="heart-product-{kettle}"' in page and 'aria-pressed="true"' in page
    elsewhere = toggle(client, kettle, htmx=False, next="https://evil.example/")
    assert elsewhere.headers["Location"] == "/"  # never off the site


def test_bad_hearts_are_refused(app, client, user, seeded):
    assert toggle(client, "x").status_code == 422
    assert toggle(client, 999_999).status_code == 404


def test_the_modal_lists_favourites_and_moves_one_to_the_cart(app, client, user, seeded):
    beans, kettle = seeded["BEAN-ETH-250"], seeded["GEAR-KETTLE"]
    toggle(client, beans)
    toggle(client, kettle)
    body = client.get("/favourites", headers=HTMX).get_data(as_text=True)
    assert re.findall(r'<li class="favourite" data-sku="([^"]+)"', body) == [
        "GEAR-KETTLE",
        "BEAN-ETH-250",
    ]  # newest first
    token = csrf_token(client)
    moved = client.post(
        f"/favourites/{beans}/cart",
        data={"csrf_token": token},
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert moved.status_code == 200 and moved.headers["HX-Trigger"] == "cart-changed"
    assert "is in your cart (1 in all)" in moved.get_data(as_text=True)
    assert cart_lines(app, user) == {beans: 1}
    assert 'data-sku="BEAN-ETH-250"' in moved.get_data(as_text=True)  # still a favourite
    plain = client.post(f"/favourites/{beans}/cart", data={"csrf_token": token})
    assert plain.status_code == 303 and plain.headers["Location"] == "/favourites"
    assert cart_lines(app, user) == {beans: 2}
    page = client.get("/favourites").get_data(as_text=True)
    assert 'id="favourites-dialog"' in page and "open data-open" in page


def test_a_hidden_favourite_stays_listed_as_unavailable(app, client, user, seeded):
    grinder = seeded["GEAR-GRINDER"]
    toggle(client, grinder)
    set_active(app, grinder, False)
    body = client.get("/favourites", headers=HTMX).get_data(as_text=True)
    assert 'class="favourite unavailable" data-sku="GEAR-GRINDER"' in body
    assert "No longer available." in body and "Move to cart" not in body
    token = csrf_token(client)
    refused = client.post(f"/favourites/{grinder}/cart", data={"csrf_token": token},
                          headers={**HTMX, "X-CSRFToken": token})  # fmt: skip
    assert refused.status_code == 404 and cart_lines(app, user) == {}


def test_removing_from_the_modal_keeps_the_modal(app, client, user, seeded):
    beans = seeded["BEAN-ETH-250"]
    toggle(client, beans)
    body = toggle(client, beans, **{"from": "list"}).get_data(as_text=True)
    assert "No favourites yet." in body and "removed from your favourites" in body


def test_visitors_are_sent_to_log_in(client, seeded):
    answer = client.post("/favourites", data={"product_id": seeded["GEAR-KETTLE"],
                                              "csrf_token": csrf_token(client)})  # fmt: skip
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert client.get("/favourites").status_code == 302


@pytest.mark.parametrize("count", [0, 1, 50])
def test_the_shop_page_costs_the_same_statements_with_any_number_of_favourites(
    app, client, user, count
):
    ids = make_products(app, 50, prefix=f"F{count}")
    for product_id in ids[:count]:
        toggle(client, product_id)
    client.get("/")  # warm: the page is rendered once per process for what it shows
    with count_queries(app) as statements:
        html = client.get("/").get_data(as_text=True)
    assert len(statements) == 2, statements  # the user; the cards with hearts and badge
    assert html.count('data-favourite="true"') == count
