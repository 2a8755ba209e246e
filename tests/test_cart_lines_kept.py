"""Cart lines are kept per worker (shop/fragments.py, `cart_line_html`) and never stale:
a line is rendered again whenever anything it shows changed."""

import re

import pytest
from cart_helpers import HTMX, fill_cart, login_client, make_products, set_active

from shop import fragments
from shop.catalog.models import Product
from shop.extensions import db


@pytest.fixture(autouse=True)
def cold_worker():
    fragments.forget_all()
    yield
    fragments.forget_all()


def cart_body(client, **headers) -> str:
    answer = client.get("/cart", headers={**HTMX, **headers})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def lines(html: str) -> dict[str, str]:
    return dict(
        re.findall(r'<li class="cart-line[^"]*" data-product-id="(\d+)">(.*?)</li>', html, re.S)
    )


def counting_renders(monkeypatch) -> list:
    renders = []
    real = fragments.kept

    def kept(slot, version, render):
        return real(slot, version, lambda: renders.append(slot) or render())

    monkeypatch.setattr(fragments, "kept", kept)
    return renders


def test_a_line_is_rendered_once_until_it_changes(app, client, user, shopper, monkeypatch):
    ids = make_products(app, 3)
    fill_cart(app, user, ids, quantity=2)
    renders = counting_renders(monkeypatch)
    first = cart_body(client)
    assert len([s for s in renders if s[0] == "cart-line"]) == 3
    renders.clear()
    assert cart_body(client) == first
    assert [s for s in renders if s[0] == "cart-line"] == []
    # A quantity, a price, a product taken off sale: each of those lines once more (the
    # quantity's own answer already shows its line), showing the change.
    assert shopper.set(ids[0], "5", htmx=True).status_code == 200
    with app.app_context():
        db.session.get(Product, ids[1]).prices["usd"].price_cents = 999
        db.session.commit()
    set_active(app, ids[2], False)
    now = lines(cart_body(client))
    assert sorted(s[2] for s in renders if s[0] == "cart-line") == sorted(ids)
    assert 'value="5"' in now[str(ids[0])]
    assert "$9.99" in now[str(ids[1])]
    assert "No longer available" in now[str(ids[2])]


def test_a_line_follows_the_language(app, client, user):
    (pid,) = make_products(app, 1)
    fill_cart(app, user, [pid])
    assert "Remove" in cart_body(client)
    german = cart_body(client, **{"Accept-Language": "de"})
    assert "Entfernen" in german and "Remove<" not in german


def test_another_session_never_gets_my_lines(app, client, user, auth):
    (pid,) = make_products(app, 1)
    fill_cart(app, user, [pid])
    mine = cart_body(client)
    auth.create_user("eve@example.com")
    with app.app_context():
        from shop.auth.models import User

        eve = db.session.query(User).filter_by(email="eve@example.com").one().id
    fill_cart(app, eve, [pid])
    eve_client = login_client(app, "eve@example.com")
    hers = cart_body(eve_client)
    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    assert set(token.findall(mine)).isdisjoint(token.findall(hers))  # each her own forms
