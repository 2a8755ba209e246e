"""The one page: catalogue grid, active search as a fragment, health check."""

import re


def card_titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="card-title">([^<]+)</h3>', html)


def test_page_shows_the_seeded_catalogue_to_visitors(client, seeded):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(card_titles(html)) == len(seeded) >= 8
    assert "$14.50" in html  # Ethiopia Yirgacheffe, price formatted for USD
    assert "Log in to buy" in html
    assert 'id="cart-count"' in html
    assert 'id="cart-dialog"' in html and 'id="orders-dialog"' in html
    assert '<meta name="csrf-token"' in html and "hx-headers=" in html
    assert "Stripe emulator" in html


def test_logged_in_customer_sees_quantity_and_add(user, client, seeded):
    html = client.get("/").get_data(as_text=True)
    assert html.count('name="product_id"') == len(seeded)
    assert 'name="quantity"' in html and "Log in to buy" not in html


def test_search_filters_by_name_and_description(client, seeded):
    by_name = card_titles(client.get("/?q=kettle").get_data(as_text=True))
    assert by_name == ["Gooseneck Kettle, 0.9 L"]
    by_description = card_titles(client.get("/?q=JASMINE").get_data(as_text=True))
    assert by_description == ["Ethiopia Yirgacheffe, 250 g"]


def test_search_treats_wildcards_literally(client, seeded):
    html = client.get("/?q=%25").get_data(as_text=True)
    assert card_titles(html) == []
    assert "No products match" in html


def test_active_search_returns_only_the_grid(client, seeded):
    response = client.get("/?q=beans", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="grid"')
    assert "<html" not in html and "site-header" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_history_restore_gets_the_full_page(client, seeded):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    html = client.get("/?q=beans", headers=headers).get_data(as_text=True)
    assert "<html" in html


def test_plain_page_also_varies_on_hx_request(client):
    assert "HX-Request" in client.get("/").headers["Vary"]


def test_inactive_products_are_not_listed(app, client, seeded):
    from shop.catalog.models import Product
    from shop.extensions import db

    with app.app_context():
        db.session.get(Product, seeded["TOTE-CANVAS"]).active = False
        db.session.commit()
    assert "Canvas Tote Bag" not in card_titles(client.get("/").get_data(as_text=True))


def test_healthz_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "does not exist" in response.get_data(as_text=True)


def test_htmx_errors_come_back_as_a_toast(client):
    response = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#toasts"
    assert 'class="toast' in response.get_data(as_text=True)


def test_favicon_exists(client):
    assert client.get("/favicon.ico").status_code == 200
