"""/admin/products: every product with its stock and held units; an admin sets the units on
hand and hides or shows a product, each change recorded with who made it, and a later
`flask seed` never undoes either."""

import re

import pytest
from sqlalchemy import select

from checkout_helpers import add, checkout
from conftest import csrf_token
from shop.catalog import services as catalog
from shop.catalog.models import Product, ProductEvent
from shop.extensions import db

GRINDER = "GEAR-GRINDER"


def post(client, sku: str, htmx: bool = False, token: str | None = "page", **fields):
    """Post a product row's form as the page does."""
    value = csrf_token(client, "/admin/products") if token == "page" else token
    path = f"/admin/products/{sku}"
    if htmx:
        headers = {"HX-Request": "true"} | ({"X-CSRFToken": value} if value else {})
        return client.post(path, data=fields, headers=headers)
    return client.post(path, data=fields | ({"csrf_token": value} if value else {}))


def product(app, sku: str) -> Product:
    """A product as stored."""
    with app.app_context():
        found = db.session.scalar(select(Product).where(Product.sku == sku))
        db.session.expunge(found)
        return found


def row(html: str, sku: str) -> str:
    """A product's row on the admin page."""
    match = re.search(rf'<tr data-sku="{sku}".*?</tr>', html, re.S)
    assert match, f"no row for {sku}"
    return match.group(0)


def history(app, sku: str) -> list[tuple[str, int | None, str]]:
    """A product's recorded changes: (kind, admin id, note)."""
    with app.app_context():
        rows = db.session.execute(
            select(ProductEvent.kind, ProductEvent.actor_id, ProductEvent.note)
            .join(Product, Product.id == ProductEvent.product_id)
            .where(Product.sku == sku)
            .order_by(ProductEvent.id)
        )
        return [tuple(r) for r in rows]


def test_every_product_is_listed_with_stock_and_held_units(app, client, user, seeded, admin):
    add(client, seeded[GRINDER], 2)
    checkout(client)  # 2 grinders held by an open checkout
    with app.app_context():
        db.session.get(Product, seeded["TOTE-CANVAS"]).active = False
        db.session.get(Product, seeded["MUG-STONE"]).stock = None
        db.session.commit()
    page = admin.client.get("/admin/products").get_data(as_text=True)
    assert len(re.findall(r'<tr data-sku="', page)) == len(seeded)
    grinder = row(page, GRINDER)
    assert 'data-active="true"' in grinder and 'data-stock="3"' in grinder
    assert 'data-reserved="2"' in grinder
    assert 'data-active="false"' in row(page, "TOTE-CANVAS")
    assert 'data-stock=""' in row(page, "MUG-STONE") and "not tracked" in row(page, "MUG-STONE")


def test_restocking_is_recorded_and_the_shop_sees_it(app, client, user, seeded, admin):
    post(admin.client, GRINDER, stock="0", active="on")
    assert "Sold out" in client.get("/").get_data(as_text=True)
    response = post(admin.client, GRINDER, stock="12", active="on")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/products"
    page = admin.client.get("/admin/products").get_data(as_text=True)
    assert f"{GRINDER}: stock 0 → 12." in page  # the flash after the redirect
    assert 'data-stock="12"' in row(page, GRINDER) and "boss@example.com" in row(page, GRINDER)
    assert history(app, GRINDER) == [
        ("stock_set", admin.id, "stock 3 → 0"),
        ("stock_set", admin.id, "stock 0 → 12"),
    ]
    assert 'data-sku="GEAR-GRINDER" data-available="12"' in client.get("/").get_data(as_text=True)


def test_htmx_gets_the_rows_back_with_the_outcome_beside_the_product(app, seeded, admin):
    response = post(admin.client, GRINDER, htmx=True, stock="", active="on")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="admin-products"' in html
    assert "stock 3 → not tracked" in row(html, GRINDER)
    assert product(app, GRINDER).stock is None
    again = post(admin.client, GRINDER, htmx=True, stock="", active="on").get_data(as_text=True)
    assert f"{GRINDER}: nothing to change." in row(again, GRINDER)
    assert len(history(app, GRINDER)) == 1


def test_hiding_takes_a_product_off_the_shop_and_a_seed_keeps_it_hidden(
    app, client, runner, seeded, admin
):
    post(admin.client, "TOTE-CANVAS", stock="9")  # no `active`: the box was unticked
    assert 'data-sku="TOTE-CANVAS"' not in client.get("/").get_data(as_text=True)
    assert history(app, "TOTE-CANVAS")[-1] == ("hidden", admin.id, "hidden in the shop")
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    kept = product(app, "TOTE-CANVAS")
    assert (kept.active, kept.hidden, kept.stock) == (False, True, 9)  # the admin's, still
    post(admin.client, "TOTE-CANVAS", stock="9", active="on")
    assert 'data-sku="TOTE-CANVAS"' in client.get("/").get_data(as_text=True)
    runner.invoke(args=["seed"])
    assert product(app, "TOTE-CANVAS").active is True


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"stock": "-1", "active": "on"}, "stock", "whole number from 0"),
        ({"stock": "2.5", "active": "on"}, "stock", "whole number from 0"),
        ({"stock": "lots", "active": "on"}, "stock", "whole number from 0"),
        ({"stock": "99999999999", "active": "on"}, "stock", "whole number from 0"),
        ({"stock": "١٢", "active": "on"}, "stock", "whole number from 0"),
        ({"active": "on"}, "stock", "Send the stock field"),
        ({"stock": "5", "active": "maybe"}, "active", "either on or off"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_values_are_422_with_the_reason_and_nothing_changes(
    app, seeded, admin, fields, field, words, htmx
):
    response = post(admin.client, GRINDER, htmx=htmx, **fields)
    assert response.status_code == 422
    grinder = row(response.get_data(as_text=True), GRINDER)
    assert words in grinder
    if field == "stock":
        assert 'aria-invalid="true"' in grinder
    kept = product(app, GRINDER)
    assert (kept.stock, kept.active) == (3, True) and history(app, GRINDER) == []


def test_an_unknown_product_is_404_and_a_missing_token_400(app, seeded, admin):
    assert post(admin.client, "NO-SUCH-SKU", stock="1", active="on").status_code == 404
    assert post(admin.client, GRINDER, token=None, stock="1", active="on").status_code == 400
    assert product(app, GRINDER).stock == 3


def test_the_service_refuses_an_unknown_sku(app, seeded):
    with app.app_context(), pytest.raises(catalog.ProductNotFound):
        catalog.update_product("NOPE", 1, True, actor_id=1)
