"""Cart rules without HTTP: the strict quantity parser and the cart that checkout reads."""

import pytest
from cart_helpers import fill_cart, make_products, set_active
from hypothesis import given
from hypothesis import strategies as st

from shop.cart import forms, services
from shop.catalog.models import Product
from shop.extensions import db


@pytest.mark.parametrize(
    ("form", "expected"),
    [({}, 1), ({"quantity": "3"}, 3), ({"quantity": " 7 "}, 7), ({"quantity": "010"}, 10)],
)
def test_quantity_accepts_whole_numbers_and_defaults_only_when_absent(form, expected):
    assert forms.quantity(form, low=1, high=10, default=1) == expected


@pytest.mark.parametrize(
    "raw", ["", " ", "0", "-1", "11", "2.5", "1e3", "abc", "1_0", "٣", "0x5", "+", "3 4"]
)
def test_quantity_refuses_anything_else(raw):
    with pytest.raises(forms.InvalidInput):
        forms.quantity({"quantity": raw}, low=1, high=10, default=1)


def test_quantity_is_required_without_a_default():
    with pytest.raises(forms.InvalidInput, match="missing"):
        forms.quantity({}, low=0, high=10)


@given(st.text(max_size=40))
def test_quantity_parser_only_ever_returns_in_range_or_refuses(raw):
    try:
        value = forms.quantity({"quantity": raw}, low=0, high=10)
    except forms.InvalidInput:
        return
    assert 0 <= value <= 10 and raw.strip().lstrip("+-").isascii()


def test_a_huge_number_is_out_of_range_not_a_crash():
    with pytest.raises(forms.InvalidInput, match="out of range"):
        forms.quantity({"quantity": "9" * 5000}, low=1, high=10)


def test_load_cart_prices_lines_now_and_leaves_unavailable_ones_out(app, user):
    first, second = make_products(app, 2, price_cents=250)
    fill_cart(app, user, [first, second], quantity=3)
    set_active(app, second, False)
    with app.app_context():
        cart = services.load_cart(user, "usd")
    assert [line.product.id for line in cart.lines] == [first, second]
    assert [line.available for line in cart.lines] == [True, False]
    assert [line.line_total_cents for line in cart.lines] == [750, 0]
    assert (cart.subtotal_cents, cart.currency, cart.count) == (750, "usd", 6)
    assert cart.has_unavailable and not cart.is_empty and not cart.can_check_out


def test_an_empty_cart(app, user):
    with app.app_context():
        cart = services.load_cart(user, "usd")
    assert cart.is_empty and cart.lines == () and cart.count == 0 and cart.subtotal_cents == 0
    assert not cart.can_check_out


def test_add_item_refuses_an_unknown_product_without_writing(app, user):
    with app.app_context(), pytest.raises(services.ProductUnavailable):
        services.add_item(user, 424242, 1, max_quantity=10, currency="usd")
    with app.app_context():
        assert services.load_cart(user, "usd").is_empty


def test_what_an_add_reports_matches_the_cart_it_left(app, user):
    """The add's one aggregate row says what `load_cart` would: count, subtotal in the
    cart's currency (lines without a price in it count for nothing), and what is left of a
    tracked product."""
    gone, kept, tracked, dollars = make_products(app, 4, prefix="AD", price_cents=250)
    fill_cart(app, user, [gone, kept, dollars], quantity=2)
    set_active(app, gone, False)
    with app.app_context():
        product = db.session.get(Product, tracked)
        product.stock, product.reserved = 5, 1
        for pid in (gone, kept, tracked):
            db.session.get(Product, pid).set_prices({"usd": 250, "eur": 200})
        db.session.commit()
        added = services.add_item(user, tracked, 3, max_quantity=10, currency="eur")
        cart = services.load_cart(user, "eur")
    line = cart.line_for(tracked)
    assert (added.quantity, added.name, added.units_left) == (3, line.product.name, 4)
    assert (
        (added.count, added.subtotal_cents, added.currency)
        == (
            cart.count,
            cart.subtotal_cents,
            cart.currency,
        )
        == (9, 1000, "eur")
    )


def test_a_removal_names_the_product_it_took_out_once(app, user, seeded):
    fill_cart(app, user, [seeded["MUG-STONE"], seeded["GEAR-SCALE"]])
    with app.app_context():
        cart = services.remove_item(user, seeded["MUG-STONE"], "usd")
        assert cart.removed == "Stoneware Mug, 350 ml"
        assert [line.product.name for line in cart.lines] == ["Coffee Scale with Timer"]
        assert services.remove_item(user, seeded["MUG-STONE"], "usd").removed is None
        assert services.set_quantity(user, seeded["GEAR-SCALE"], 0, "usd").removed == (
            "Coffee Scale with Timer"
        )
