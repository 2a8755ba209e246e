"""The one page: catalogue grid, active search as a fragment, health check."""

import re

import pytest

from conftest import csrf_token
from shop.templating import keep_units


def card_titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="card-title">([^<]+)</h2>', html)


def test_page_shows_the_seeded_catalogue_to_visitors(client, seeded):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(card_titles(html)) == len(seeded) >= 8
    assert "$14.50" in html  # Ethiopia Yirgacheffe, price formatted for USD
    assert 'action="/cart/items"' in html  # a visitor fills a cart kept in their session
    assert 'id="cart-count"' in html
    assert 'id="cart-dialog"' in html and 'id="orders-dialog"' in html
    assert '<meta name="csrf-token"' in html and "hx-headers=" in html
    assert "Stripe emulator" in html


def test_logged_in_customer_sees_quantity_and_add(user, client, seeded):
    html = client.get("/").get_data(as_text=True)
    assert html.count('name="product_id"') == 2 * len(seeded)  # each card: its heart, its add
    assert html.count('class="heart"') == len(seeded)
    assert 'name="quantity"' in html and "Log in to buy" not in html


def test_search_filters_by_name_and_description(client, seeded):
    by_name = card_titles(client.get("/?q=kettle").get_data(as_text=True))
    assert by_name == ["Gooseneck Kettle, 0.9\u00a0L"]  # "L" never starts a line alone
    by_description = card_titles(client.get("/?q=JASMINE").get_data(as_text=True))
    assert by_description == ["Ethiopia Yirgacheffe, 250\u00a0g"]


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


# --- Cards and the page's structure (issue #18) ----------------------------------------------


def test_the_page_has_one_h1_and_a_description(client, seeded):
    html = client.get("/").get_data(as_text=True)
    assert html.count("<h1") == 1
    assert re.search(r'<meta name="description" content="[^"]{40,}">', html)


def test_nothing_sits_outside_a_landmark(user, client, seeded):
    html = client.get("/").get_data(as_text=True)
    banner = re.search(r'<aside class="banner" aria-label="Test mode">\s*<p>Stripe emulator', html)
    assert banner and html.index("<aside") < html.index('<header class="site-header">')
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    after = client.get("/").get_data(as_text=True)  # the flash of the logout
    main = after.split('<main id="main">')[1].split("</main>")[0]
    assert '<p class="flash flash-info" role="status">You are logged out.</p>' in main


def test_cards_carry_their_sku_link_to_their_page_and_name_their_button(user, client, seeded):
    html = client.get("/").get_data(as_text=True)
    skus = re.findall(r'<li class="card" data-sku="([^"]+)"', html)
    assert sorted(skus) == sorted(seeded)
    for sku in seeded:
        assert f'href="/products/{sku}" hx-get="/products/{sku}"' in html
    assert '>Add<span class="visually-hidden"> Gooseneck Kettle, 0.9 L to cart</span>' in html


def test_only_cards_below_the_first_row_load_lazily(client, seeded):
    images = re.findall(r'<img src="/static/img/products/[^"]+"[^>]*>', client.get("/").text)
    assert len(images) == len(seeded)
    assert ["lazy" in tag for tag in images] == [False] * 4 + [True] * (len(seeded) - 4)


def test_the_result_count_is_said_in_a_live_region_kept_out_of_the_grid(client, seeded):
    html = client.get("/?q=kettle", headers={"HX-Request": "true"}).get_data(as_text=True)
    status = re.search(r'<p id="search-status"[^>]*hx-swap-oob="innerHTML">([^<]*)</p>', html)
    assert 'role="status"' in status.group(0)
    assert status.group(1) == "1 result for “kettle”"
    assert '<p class="results-note">1 result for “kettle”</p>' in html


def test_no_results_is_said_once_on_screen(client, seeded):
    html = client.get("/?q=decaf+unicorn").get_data(as_text=True)
    grid = html.split('<section id="grid"')[1].split("</section>")[0]
    assert "No products match “decaf unicorn”" in grid and "results-note" not in grid
    assert re.search(r'<p id="search-status"[^>]*>No products match “decaf unicorn”</p>', html)


# --- Product pages: GET /products/<sku> -------------------------------------------------------


def test_a_product_page_shows_the_product_without_javascript(user, client, seeded):
    response = client.get("/products/GEAR-KETTLE")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert (
        '<h1 id="product-title" class="product-title" tabindex="-1">'
        "Gooseneck Kettle, 0.9\u00a0L</h1>" in html
    )
    assert html.count("<h1") == 1
    assert "<title>Gooseneck Kettle, 0.9 L · Northside Roastery</title>" in html
    assert 'rel="canonical" href="http://localhost/products/GEAR-KETTLE"' in html
    assert '<article class="product" data-sku="GEAR-KETTLE"' in html
    assert "$54.00" in html and 'class="availability"' in html
    assert 'src="/static/img/products/gear-kettle.svg"' in html and 'width="480"' in html
    form = re.search(r'<form class="add-form".*?</form>', html, re.S).group(0)
    assert 'action="/cart/items"' in form
    assert f'name="product_id" value="{seeded["GEAR-KETTLE"]}"' in form
    assert 'id="product-qty-' in form  # not the grid's ids: the dialog opens over the grid


def test_a_product_page_lets_a_visitor_add_and_asks_them_to_log_in_to_buy_now(client, seeded):
    html = client.get("/products/MUG-STONE").get_data(as_text=True)
    assert 'href="/login?next=/products/MUG-STONE">Log in</a> to buy it now' in html
    assert f'name="product_id" value="{seeded["MUG-STONE"]}"' in html
    assert "Buy now" not in html and 'class="heart"' not in html


def test_htmx_gets_the_product_as_the_dialog_body(client, seeded):
    response = client.get("/products/MUG-STONE", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<article class="product" data-sku="MUG-STONE"')
    assert '<h2 id="product-title"' in html  # below the page's own h1
    assert "HX-Request" in response.headers["Vary"]


def test_the_grid_page_holds_the_product_dialog_shell(client, seeded):
    html = client.get("/").get_data(as_text=True)
    assert '<dialog id="product-dialog"' in html and '<div id="product-body"></div>' in html


@pytest.mark.parametrize("sku", ["NO-SUCH-SKU", "x" * 65, "gear-kettle"])
def test_an_unknown_product_is_404(client, seeded, sku):
    response = client.get(f"/products/{sku}")
    assert response.status_code == 404
    assert "That product does not exist." in response.get_data(as_text=True)


def test_an_inactive_product_is_404(app, client, seeded):
    from shop.catalog.models import Product
    from shop.extensions import db

    with app.app_context():
        db.session.get(Product, seeded["TOTE-CANVAS"]).active = False
        db.session.commit()
    assert client.get("/products/TOTE-CANVAS").status_code == 404
    htmx = client.get("/products/TOTE-CANVAS", headers={"HX-Request": "true"})
    assert htmx.status_code == 404 and htmx.headers["HX-Retarget"] == "#toasts"


def test_the_header_search_is_live_only_where_the_grid_is(client, seeded):
    """As-you-type results target #grid, which only the catalogue has; elsewhere the search
    is a plain form to /?q= (no htmx request aimed at a missing target)."""
    home = client.get("/").get_data(as_text=True)
    assert 'hx-target="#grid"' in home
    for path in ("/products/GEAR-KETTLE", "/login"):
        page = client.get(path).get_data(as_text=True)
        assert 'id="search-q"' in page and 'hx-target="#grid"' not in page
        assert '<form class="search" action="/" method="get"' in page


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Ethiopia Yirgacheffe, 250 g", "Ethiopia Yirgacheffe, 250\u00a0g"),
        ("House Espresso Blend, 1 kg", "House Espresso Blend, 1\u00a0kg"),
        ("Stoneware Mug, 350 ml", "Stoneware Mug, 350\u00a0ml"),
        ("Grinder, 38  mm burrs", "Grinder, 38\u00a0mm burrs"),
        ("Paper Filters, pack of 100", "Paper Filters, pack of 100"),  # no unit: unchanged
        ("Size 2 go-cup", "Size 2 go-cup"),  # "go" is no unit
    ],
)
def test_a_number_and_its_unit_are_one_word_for_line_breaking(name, shown):
    assert keep_units(name) == shown
