"""The cart through its routes: htmx fragments and plain forms; refusals leave it as it was."""

import re

import pytest
from cart_helpers import (
    HTMX,
    Shopper,
    badge,
    cart_lines,
    fill_cart,
    login_client,
    make_products,
    set_active,
)

from conftest import AuthActions, app_config
from shop import create_app
from shop.cart.services import MAX_LINES
from shop.catalog.models import Product
from shop.extensions import db


@pytest.fixture
def beans(seeded):
    """Ethiopia Yirgacheffe, $14.50."""
    return seeded["BEAN-ETH-250"]


@pytest.fixture
def kettle(seeded):
    """The gooseneck kettle."""
    return seeded["GEAR-KETTLE"]


# --- Adding from a product card -------------------------------------------------------


def test_htmx_add_confirms_in_the_card_and_updates_the_badge_out_of_band(app, user, shopper, beans):
    response = shopper.add(beans, 2, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Added. You have 2 × Ethiopia Yirgacheffe, 250 g in your cart." in html
    assert re.search(r'<span id="cart-count"[^>]*hx-swap-oob="true"[^>]*>2</span>', html)
    assert response.headers["HX-Trigger"] == "cart-changed"
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in html and 'id="cart-body"' not in html
    assert cart_lines(app, user) == {beans: 2}
    # The confirmation links to the cart: the dialog with JS, the cart page without.
    assert re.search(r'<a class="view-cart" href="/cart" hx-get="/cart"[^>]*>View cart</a>', html)


def test_quantity_defaults_to_one_only_when_the_field_is_absent(app, user, shopper, beans):
    assert shopper.add(beans, htmx=True).status_code == 200
    assert cart_lines(app, user) == {beans: 1}


def test_adding_again_increments_the_same_line(app, user, shopper, beans, kettle):
    shopper.add(beans, 2, htmx=True)
    shopper.add(kettle, 1, htmx=True)
    response = shopper.add(beans, 3, htmx=True)
    assert badge(response.get_data(as_text=True)) == "6"
    assert cart_lines(app, user) == {beans: 5, kettle: 1}


def test_an_add_past_the_maximum_is_capped_and_says_so(app, user, shopper, beans):
    shopper.add(beans, 8, htmx=True)
    response = shopper.add(beans, 5, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You have 10 × Ethiopia Yirgacheffe, 250 g in your cart, the most one order" in html
    assert cart_lines(app, user) == {beans: 10}


def test_the_maximum_is_a_setting(app, seeded):
    small = create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], CART_MAX_QUANTITY=3))
    user_id = AuthActions(small, small.test_client()).create_user()
    shop = Shopper(login_client(small))
    assert shop.add(seeded["BEAN-ETH-250"], 4, htmx=True).status_code == 422
    shop.add(seeded["BEAN-ETH-250"], 2, htmx=True)
    shop.add(seeded["BEAN-ETH-250"], 2, htmx=True)
    assert cart_lines(small, user_id) == {seeded["BEAN-ETH-250"]: 3}
    assert 'max="3"' in shop.client.get("/").get_data(as_text=True)
    with small.app_context():
        db.engine.dispose()


def test_plain_add_redirects_to_the_page_with_the_cart_open(app, user, shopper, beans, client):
    response = shopper.add(beans, 2)
    assert response.status_code == 303
    assert response.headers["Location"] == "/cart"
    assert "HX-Request" in response.headers["Vary"]
    page = client.get("/cart").get_data(as_text=True)
    assert "Added. You have 2 × Ethiopia Yirgacheffe" in page  # the flashed confirmation
    assert re.search(r'<dialog id="cart-dialog"[^>]* open data-open', page)
    assert cart_lines(app, user) == {beans: 2}


def test_the_card_form_posts_to_the_cart_with_htmx_attributes(user, client, beans):
    page = client.get("/").get_data(as_text=True)
    form = re.search(r'<form class="add-form"[^>]*>', page).group(0)
    assert 'action="/cart/items"' in form and 'method="post"' in form
    assert 'hx-post="/cart/items"' in form
    assert 'hx-target="find .added-note"' in form
    assert 'hx-disabled-elt="find button"' in form


# --- Bad input on add: a clear refusal, never a 500, cart unchanged -------------------------

BAD_ADD_QUANTITIES = ["-1", "0", "abc", "1e3", "2.5", "", "  ", "11", "99999999999999999999"]


@pytest.mark.parametrize("quantity", BAD_ADD_QUANTITIES)
def test_bad_add_quantity_is_422_in_the_card_and_changes_nothing(
    app, user, shopper, beans, quantity
):
    shopper.add(beans, 1, htmx=True)
    response = shopper.add(beans, quantity, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="add-error"' in html and "whole number of items from 1 to 10" in html
    assert "View cart" not in html  # a refusal offers nothing to look at
    assert "HX-Trigger" not in response.headers
    assert cart_lines(app, user) == {beans: 1}


@pytest.mark.parametrize("quantity", ["abc", "", "0", "11"])
def test_bad_add_quantity_without_js_shows_the_cart_page_with_the_error(
    app, user, shopper, beans, quantity
):
    response = shopper.add(beans, quantity)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" in html and 'id="grid"' in html
    assert re.search(r'class="flash flash-error" role="alert">[^<]*1 to 10', html)
    assert cart_lines(app, user) == {}


@pytest.mark.parametrize("product_id", ["", "abc", "-3", "0", "1.5"])
def test_malformed_product_id_is_422(app, user, shopper, product_id, seeded):
    response = shopper.add(product_id, 1, htmx=True)
    assert response.status_code == 422
    assert "Choose a product to add." in response.get_data(as_text=True)
    assert cart_lines(app, user) == {}


def test_missing_product_id_is_422(app, user, shopper, seeded):
    response = shopper.client.post(
        "/cart/items", data={"csrf_token": shopper.token, "quantity": "1"}, headers=HTMX
    )
    assert response.status_code == 422
    assert cart_lines(app, user) == {}


@pytest.mark.parametrize("product_id", ["999999", str(2**31), "99999999999999"])
def test_unknown_product_is_404_and_changes_nothing(app, user, shopper, seeded, product_id):
    response = shopper.add(product_id, 1, htmx=True)
    assert response.status_code == 404
    assert "That product is not available." in response.get_data(as_text=True)
    assert cart_lines(app, user) == {}


def test_inactive_product_cannot_be_added(app, user, shopper, beans):
    shopper.add(beans, 1, htmx=True)
    set_active(app, beans, False)
    response = shopper.add(beans, 1)
    assert response.status_code == 404
    assert "That product is not available." in response.get_data(as_text=True)
    assert cart_lines(app, user) == {beans: 1}


def test_a_51st_line_is_refused_but_existing_lines_still_grow(app, user, shopper):
    ids = make_products(app, MAX_LINES + 1)
    fill_cart(app, user, ids[:MAX_LINES])
    response = shopper.add(ids[MAX_LINES], 1, htmx=True)
    assert response.status_code == 422
    assert f"already holds {MAX_LINES} different products" in response.get_data(as_text=True)
    assert shopper.add(ids[0], 2, htmx=True).status_code == 200
    lines = cart_lines(app, user)
    assert len(lines) == MAX_LINES and lines[ids[0]] == 3 and ids[MAX_LINES] not in lines


def test_add_without_csrf_token_is_400_and_changes_nothing(app, user, client, beans):
    response = client.post("/cart/items", data={"product_id": beans, "quantity": "1"})
    assert response.status_code == 400
    htmx = client.post("/cart/items", data={"product_id": beans}, headers=HTMX)
    assert htmx.status_code == 400 and htmx.headers["HX-Retarget"] == "#toasts"
    assert cart_lines(app, user) == {}


def test_get_on_the_add_route_is_405(user, client):
    assert client.get("/cart/items").status_code == 405


# --- Showing the cart ---------------------------------------------------------------------


def test_htmx_get_cart_is_the_modal_body_and_the_badge(app, user, shopper, client, beans, kettle):
    shopper.add(beans, 2)
    shopper.add(kettle, 1)
    response = client.get("/cart", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'id="grid"' not in html
    assert 'class="cart-lines"' in html
    assert "$14.50 each" in html and "$29.00" in html  # unit price and line total
    assert re.search(r'<span id="cart-count"[^>]*hx-swap-oob="true"[^>]*>3</span>', html)
    assert "HX-Request" in response.headers["Vary"]


def test_plain_get_cart_is_the_page_with_the_cart_open(user, shopper, client, beans):
    shopper.add(beans, 1)
    response = client.get("/cart")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html and 'id="grid"' in html  # the catalogue is still there
    assert re.search(r'<dialog id="cart-dialog"[^>]* open data-open', html)
    assert 'class="cart-lines"' in html and "Ethiopia Yirgacheffe" in html
    assert 'method="dialog"' in html  # the close button works without JS
    assert "hx-swap-oob" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_cart_lines_show_image_name_price_quantity_and_total(app, user, shopper, client, beans):
    shopper.add(beans, 3)
    html = client.get("/cart", headers=HTMX).get_data(as_text=True)
    line = re.search(r'<li class="cart-line"[^>]*>.*?</li>', html, re.S).group(0)
    assert 'src="/static/img/products/bean-eth-250.svg"' in line
    assert "Ethiopia Yirgacheffe, 250 g" in line and "$14.50 each" in line
    assert 'name="quantity" value="3" min="0" max="10"' in line
    assert f'hx-post="/cart/items/{beans}"' in line
    assert 'hx-trigger="change delay:400ms, submit"' in line
    assert f'hx-delete="/cart/items/{beans}"' in line
    assert "$43.50" in line
    assert re.search(r"Subtotal <strong[^>]*>\$43.50</strong>", html)


def test_empty_cart_has_an_empty_state_and_a_way_back_to_the_shop(user, client, seeded):
    # Issue #18: not a disabled Checkout, but "Continue shopping" (a dialog form: no JS needed).
    html = client.get("/cart", headers=HTMX).get_data(as_text=True)
    assert "Your cart is empty" in html
    assert 'class="checkout-form"' not in html and ">Checkout<" not in html
    form = re.search(r'<form class="dialog-actions" method="dialog">.*?</form>', html, re.S)
    assert ">Continue shopping</button>" in form.group(0)
    assert badge(html) == "0"


def test_checkout_is_enabled_with_something_to_buy(user, shopper, client, beans):
    shopper.add(beans, 1)
    html = client.get("/cart", headers=HTMX).get_data(as_text=True)
    assert '<button class="button" type="submit">Checkout</button>' in html


def test_an_inactive_product_stays_visible_but_out_of_the_total(
    app, user, shopper, client, beans, kettle
):
    shopper.add(beans, 2)
    shopper.add(kettle, 1)
    set_active(app, kettle, False)
    html = client.get("/cart", headers=HTMX).get_data(as_text=True)
    assert "Gooseneck Kettle" in html and "No longer available" in html
    assert re.search(r"Subtotal <strong[^>]*>\$29.00</strong>", html)  # the beans only
    assert "disabled>Checkout" in html
    assert badge(html) == "3"


def test_totals_use_current_prices(app, user, shopper, client, beans):
    shopper.add(beans, 2)
    with app.app_context():
        db.session.get(Product, beans).prices["usd"].price_cents = 1599
        db.session.commit()
    html = client.get("/cart", headers=HTMX).get_data(as_text=True)
    assert "$15.99 each" in html and re.search(r"Subtotal <strong[^>]*>\$31.98</strong>", html)


def test_the_header_badge_counts_units_on_every_page(user, shopper, client, beans, kettle):
    shopper.add(beans, 2)
    shopper.add(kettle, 3)
    assert badge(client.get("/").get_data(as_text=True)) == "5"


def test_the_cart_link_loads_the_modal_body_with_htmx(user, client):
    page = client.get("/").get_data(as_text=True)
    link = re.search(r'<a class="nav-link" href="/cart"[^>]*>', page).group(0)
    assert 'hx-get="/cart"' in link and 'hx-target="#cart-body"' in link


def test_each_customer_has_their_own_cart(app, user, shopper, auth, beans):
    shopper.add(beans, 2)
    other_id = auth.create_user("bob@example.com")
    other = login_client(app, "bob@example.com")
    assert badge(other.get("/").get_data(as_text=True)) == "0"
    Shopper(other).add(beans, 1)
    assert cart_lines(app, user) == {beans: 2}
    assert cart_lines(app, other_id) == {beans: 1}


# --- Changing and removing lines in the modal ------------------------------------------


def test_changing_a_quantity_rerenders_the_modal_and_the_badge(app, user, shopper, beans):
    shopper.add(beans, 1)
    response = shopper.set(beans, "4", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="cart-lines"' in html and 'value="4"' in html
    assert re.search(r'<span id="cart-count"[^>]*hx-swap-oob="true"[^>]*>4</span>', html)
    assert response.headers["HX-Trigger"] == "cart-changed"
    assert "HX-Request" in response.headers["Vary"]
    assert cart_lines(app, user) == {beans: 4}


def test_setting_zero_removes_the_line(app, user, shopper, beans, kettle):
    shopper.add(beans, 2)
    shopper.add(kettle, 1)
    response = shopper.set(beans, "0", htmx=True)
    assert response.status_code == 200 and badge(response.get_data(as_text=True)) == "1"
    assert cart_lines(app, user) == {kettle: 1}


def test_plain_set_quantity_redirects_to_the_open_cart(app, user, shopper, beans):
    shopper.add(beans, 1)
    response = shopper.set(beans, "3")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    assert cart_lines(app, user) == {beans: 3}


def test_the_plain_remove_form_sets_zero(app, user, shopper, client, beans):
    shopper.add(beans, 1)
    html = client.get("/cart").get_data(as_text=True)
    remove = re.search(r'<form class="line-remove".*?</form>', html, re.S).group(0)
    assert f'action="/cart/items/{beans}"' in remove and 'name="quantity" value="0"' in remove
    assert 'hx-params="none"' in remove and 'hx-disabled-elt="find button"' in remove
    assert shopper.set(beans, "0").status_code == 303
    assert cart_lines(app, user) == {}


@pytest.mark.parametrize("quantity", ["-1", "abc", "1e3", "2.5", "", "11", None])
def test_bad_set_quantity_is_422_with_the_cart_and_changes_nothing(
    app, user, shopper, beans, quantity
):
    shopper.add(beans, 2)
    if quantity is None:  # the field is required here: no default when setting
        response = shopper.client.post(
            f"/cart/items/{beans}", data={"csrf_token": shopper.token}, headers=HTMX
        )
    else:
        response = shopper.set(beans, quantity, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in html and "from 0 to 10" in html
    assert 'class="cart-lines"' in html  # the cart as it stands, to correct from
    assert cart_lines(app, user) == {beans: 2}


def test_setting_a_line_that_is_not_in_the_cart_is_404(app, user, shopper, beans, kettle):
    shopper.add(beans, 1)
    response = shopper.set(kettle, "2", htmx=True)
    assert response.status_code == 404
    assert "no longer in your cart" in response.get_data(as_text=True)
    assert cart_lines(app, user) == {beans: 1}


@pytest.mark.parametrize("path", ["/cart/items/abc", "/cart/items/-1", "/cart/items/1.5"])
def test_malformed_line_ids_are_404(user, shopper, path, seeded):
    response = shopper.client.post(path, data={"quantity": "1", "csrf_token": shopper.token})
    assert response.status_code == 404


def test_a_huge_line_id_is_404_not_a_database_error(app, user, shopper, seeded):
    # No product can have such an id: it is as malformed as "abc" (a 404), not a 500.
    assert shopper.set(2**40, "1", htmx=True).status_code == 404
    assert shopper.remove(2**40).status_code == 404


def test_unavailable_lines_can_be_removed(app, user, shopper, beans):
    shopper.add(beans, 1)
    set_active(app, beans, False)
    assert shopper.set(beans, "0").status_code == 303
    assert cart_lines(app, user) == {}


def test_delete_removes_the_line_and_rerenders(app, user, shopper, beans, kettle):
    shopper.add(beans, 1)
    shopper.add(kettle, 2)
    response = shopper.remove(beans)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # The lines no longer list it; the dialog's live region says it went (issue #18).
    lines = re.search(r'<ul class="cart-lines">.*?</ul>', html, re.S).group(0)
    assert "Ethiopia" not in lines and "Gooseneck Kettle" in lines
    status = re.search(r'<p id="cart-status"[^>]*hx-swap-oob="innerHTML">([^<]*)</p>', html)
    assert status.group(1) == (
        "Removed Ethiopia Yirgacheffe, 250 g from your cart. "
        "Your cart holds 2 items; subtotal $108.00."
    )
    assert re.search(r'<span id="cart-count"[^>]*hx-swap-oob="true"[^>]*>2</span>', html)
    assert response.headers["HX-Trigger"] == "cart-changed"
    assert cart_lines(app, user) == {kettle: 2}


def test_delete_is_idempotent(app, user, shopper, beans):
    shopper.add(beans, 1)
    assert shopper.remove(beans).status_code == 200
    second = shopper.remove(beans)
    assert second.status_code == 200 and "Your cart is empty" in second.get_data(as_text=True)
    assert shopper.remove(999999).status_code == 200
    assert cart_lines(app, user) == {}


def test_mutations_without_csrf_token_are_400_and_change_nothing(app, user, shopper, beans):
    shopper.add(beans, 2)
    client = shopper.client
    assert client.post(f"/cart/items/{beans}", data={"quantity": "5"}).status_code == 400
    assert client.delete(f"/cart/items/{beans}", headers=HTMX).status_code == 400
    forged = client.delete(f"/cart/items/{beans}", headers={**HTMX, "X-CSRFToken": "forged"})
    assert forged.status_code == 400
    assert cart_lines(app, user) == {beans: 2}


def test_a_customer_cannot_touch_another_customers_line(app, user, shopper, auth, beans):
    shopper.add(beans, 2)
    auth.create_user("bob@example.com")
    bob = Shopper(login_client(app, "bob@example.com"))
    assert bob.set(beans, "5", htmx=True).status_code == 404
    assert bob.remove(beans).status_code == 200
    assert cart_lines(app, user) == {beans: 2}


def test_the_fast_fragments_are_the_blocks_htmx_render_would_give(app, user, seeded):
    """The cart's htmx answers render their blocks straight from the templates that define
    them; they must stay what the generic `htmx.render` (which looks the templates up) gives."""
    from flask_login import login_user

    from shop import pages
    from shop.auth.models import User
    from shop.cart import routes, services
    from shop.htmx import render

    fill_cart(app, user, [seeded["BEAN-ETH-250"], seeded["MUG-STONE"]], quantity=2)
    set_active(app, seeded["MUG-STONE"], False)
    with app.test_request_context("/cart", headers=HTMX):
        login_user(db.session.get(User, user))
        cart = services.load_cart(user, "usd")
        for message, kind in [(None, "success"), ("Nope & no.", "error")]:
            fast = routes.render_cart(cart, message, kind, announcement="Said <here>.")
            generic = pages.with_dialog(
                pages.CART, message, kind, cart=cart, announcement="Said <here>."
            )
            assert fast.get_data(as_text=True) == generic.get_data(as_text=True)
            assert fast.vary == generic.vary
        note = "Added. You have 2 × Tea & <Cake> in your cart."
        assert cart.count == 4
        fast = routes._note_fragment(note, count=cart.count)
        generic = render(routes.PAGE, ["add_note", "cart_badge"], note=note, cart=cart, oob=True)
        assert fast.get_data(as_text=True) == generic.get_data(as_text=True)
        refusal = routes._note_fragment("Sold <out>.", status=409, error=True)
        generic = render(routes.PAGE, ["add_note"], status=409, note="Sold <out>.", note_error=True)
        assert refusal.get_data(as_text=True) == generic.get_data(as_text=True)
        assert refusal.status_code == 409


def test_a_line_s_forms_share_one_url_for_setting_and_removing(app):
    """The cart body builds one url per line for both of its forms (POST sets, DELETE
    removes): the two routes must keep sharing it."""
    from flask import url_for

    with app.test_request_context("/"):
        assert url_for("cart.remove_item", product_id=7) == url_for(
            "cart.set_quantity", product_id=7
        )
