"""The catalogue page is rendered once per state of its cards (`shop.rendered`), and never
shows anything stale or anyone else's: every change shows on the next request, each
visitor gets their own CSRF token, badge and header."""

import re

from cart_helpers import HTMX, badge, fill_cart, login_client, make_products, set_active

from conftest import csrf_token_of
from shop import rendered
from shop.catalog import services
from shop.catalog.models import Product
from shop.extensions import db


def card(html: str, sku: str) -> str:
    """The `<li>` of one product's card."""
    match = re.search(rf'<li class="card" data-sku="{re.escape(sku)}".*?</li>', html, re.S)
    assert match, f"no card {sku}"
    return match.group(0)


def change(app, product_id: int, **values) -> None:
    """Change a product straight in the database, as a sale or an admin would."""
    with app.app_context():
        product = db.session.get(Product, product_id)
        for name, value in values.items():
            if name == "prices":
                product.set_prices(value)
            else:
                setattr(product, name, value)
        db.session.commit()


def page(client, path: str = "/", **kwargs) -> str:
    """The body of a 200 answer."""
    response = client.get(path, **kwargs)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_stock_and_prices_show_on_the_next_request(app, client, user):
    (pid,) = make_products(app, 1)
    change(app, pid, stock=10)
    assert "Only" not in card(page(client), "T-000")
    change(app, pid, reserved=7)  # a checkout held 7
    assert "Only 3 left" in card(page(client), "T-000")
    change(app, pid, reserved=10)
    assert "Sold out" in card(page(client), "T-000")
    change(app, pid, reserved=7)  # back to a state rendered before: not the sold-out copy
    assert "Only 3 left" in card(page(client), "T-000")
    change(app, pid, prices={"usd": 250}, name="Renamed beans")
    shown = card(page(client), "T-000")
    assert "$2.50" in shown and "Renamed beans" in shown


def test_a_hidden_product_leaves_the_page_and_the_search_at_once(app, client, user):
    first, second = make_products(app, 2)
    assert 'data-sku="T-001"' in page(client)
    assert 'data-sku="T-001"' in page(client, "/?q=product", headers=HTMX)
    set_active(app, second, False)
    assert 'data-sku="T-001"' not in page(client)
    assert 'data-sku="T-001"' not in page(client, "/?q=product", headers=HTMX)


def test_a_seed_run_shows_at_once(app, client, user):
    make_products(app, 1)
    before = page(client)
    with app.app_context():
        services.seed_products(services.read_seed_file())
    after = page(client)
    assert after != before and after.count('class="card"') > before.count('class="card"')


def test_each_customer_gets_their_own_token_and_badge(app, client, user, auth):
    ids = make_products(app, 2)
    fill_cart(app, user, ids, quantity=3)
    auth.create_user("bo@example.com")
    other = login_client(app, "bo@example.com")
    mine, theirs = page(client), page(other)
    assert badge(mine) == "6" and badge(theirs) == "0"
    assert badge(page(client, "/?q=nothing-matches")) == "6"  # no card row carries it
    assert csrf_token_of(mine) != csrf_token_of(theirs)
    # The token is in every place the page uses it, and it works for a POST.
    token = csrf_token_of(theirs)
    # meta, htmx headers, currency, language, logout, and each card's heart and add
    assert theirs.count(token) == 5 + 2 * len(ids)
    assert rendered.CSRF_MARK not in theirs and rendered.COUNT_MARK not in theirs
    added = other.post("/cart/items", data={"product_id": ids[0], "csrf_token": token})
    assert added.status_code == 303
    assert badge(page(other)) == "1"


def test_visitors_customers_and_admins_get_their_own_header(app, client, user, admin):
    make_products(app, 1)
    visitor = app.test_client()
    customer_page, admin_page, visitor_page = page(client), page(admin.client), page(visitor)
    assert ">Admin</a>" in admin_page and ">Admin</a>" not in customer_page
    assert ">Log in</a>" in visitor_page and "Log out" not in visitor_page
    assert 'class="heart"' not in visitor_page and 'class="heart"' in customer_page
    assert 'name="product_id"' in visitor_page and 'name="product_id"' in customer_page


def test_a_flashed_message_is_shown_once(app, client, user):
    (pid,) = make_products(app, 1)
    page(client)  # the page is now held
    token = csrf_token_of(page(client))
    client.post("/cart/items", data={"product_id": pid, "csrf_token": token})
    shown = page(client)
    assert 'class="flash' in shown
    assert 'class="flash' not in page(client)


def test_the_page_is_rendered_again_only_when_a_card_changes(app, client, user, monkeypatch):
    (pid,) = make_products(app, 1)
    page(client)
    renders = []
    real = rendered.page

    def counting(slot, version, render):
        return real(slot, version, lambda: renders.append(slot) or render())

    monkeypatch.setattr(rendered, "page", counting)
    page(client)
    page(client)
    assert renders == []
    change(app, pid, reserved=1)
    page(client)
    assert len(renders) == 1


def test_a_session_s_token_is_signed_once_and_stays_valid(app, client, user, auth):
    (pid,) = make_products(app, 1)
    first, second = csrf_token_of(page(client)), csrf_token_of(page(client))
    assert first == second  # signed once per process for this session's raw token
    added = client.post("/cart/items", data={"product_id": pid, "csrf_token": first})
    assert added.status_code == 303
    auth.logout()  # a new session: a new raw token, and the old signed one is refused
    auth.login()
    assert csrf_token_of(page(client)) != first
    refused = client.post("/cart/items", data={"product_id": pid, "csrf_token": first})
    assert refused.status_code == 400
