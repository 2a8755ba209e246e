"""Shipping: Stripe's page collects the address and offers the rates of the order's currency
(free over a threshold); the order keeps what Stripe charged, the admin sees where it goes,
the emails say so, and an order without an address ships only when the admin confirms."""

import re

import pytest
from sqlalchemy import select
from test_refunds import refund

from admin_helpers import ship, stored, timeline
from checkout_helpers import ADDRESS, add, checkout, make_orders, orders
from conftest import csrf_token
from shop import settings, shipping
from shop.config import ConfigError, load_config
from shop.extensions import db
from shop.notifications import messages
from shop.notifications.models import OutboxMessage
from shop.payments import gateway

MUG, KETTLE = 1800, 5400  # seeded prices, cents


@pytest.fixture
def rates(app, monkeypatch):
    """The shop's default rates (tests otherwise charge no shipping)."""
    monkeypatch.setitem(
        app.config, "SHIPPING_RATES", shipping.rates(settings.default("SHIPPING_RATES"))
    )


def open_checkout(app, client, product_id: int, quantity: int = 1) -> str:
    """Check out a cart of one line; the path of its session's page on the emulator."""
    add(client, product_id, quantity)
    response = checkout(client)
    return re.sub(r"^https?://[^/]+", "", response.headers["HX-Redirect"])


def pay_page(client, path: str, **fields):
    """Submit the emulator's page as a browser would: its own filled-in fields, and ours."""
    page = client.get(path).get_data(as_text=True)
    data = {"card_number": "4242424242424242", "csrf_token": csrf_token(client, path)}
    for name, value in re.findall(r'name="(shipping_[a-z0-9_]+)"[^>]*value="([^"]*)"', page):
        data.setdefault(name, value)
    checked = re.search(r'name="shipping_rate" value="(shr_\w+)" checked', page)
    if checked:
        data["shipping_rate"] = checked.group(1)
    return client.post(path, data=data | fields)


def email(app, kind: str):
    """The one message of `kind` in the outbox, rendered as the worker sends it."""
    with app.app_context():
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == kind))
        outgoing = messages.Outgoing(
            row.id, row.kind, row.recipient, row.context, row.message_id, row.created_at,
            row.order_id, row.attempts, "test",
        )  # fmt: skip
        return messages.render(outgoing)


def session_of(app, path: str) -> dict:
    with app.app_context():
        return gateway.retrieve_checkout_session(path.rsplit("/", 1)[1])


def rate_id(page: str, label: str) -> str:
    """The id of the offered rate whose label starts with `label`."""
    return re.search(rf'value="(shr_\w+)"[^>]*>\s*<label for="rate-\d">{label}', page).group(1)


def test_the_session_asks_for_an_address_and_offers_the_rates_of_its_currency(
    app, client, user, seeded, rates
):
    path = open_checkout(app, client, seeded["MUG-STONE"])
    session = session_of(app, path)
    assert session["shipping_address_collection"] == {
        "allowed_countries": ["US", "DE", "FR", "NL", "GB"]
    }
    assert [o["shipping_amount"] for o in session["shipping_options"]] == [490, 1200]
    # Stripe preselects the first rate: the total shown is the mug and standard shipping.
    assert (session["amount_subtotal"], session["amount_total"]) == (MUG, MUG + 490)
    page = client.get(path).get_data(as_text=True)
    assert "Standard (3–5 business days): $4.90 (total $22.90)" in page
    assert "Express (1–2 business days): $12.00 (total $30.00)" in page
    for field in ("name", "line1", "line2", "city", "postal_code", "country"):
        assert f'name="shipping_{field}"' in page


def test_paying_keeps_the_address_the_rate_and_what_stripe_charged(
    app, client, admin, user, seeded, rates
):
    path = open_checkout(app, client, seeded["MUG-STONE"])
    page = client.get(path).get_data(as_text=True)
    address = {"shipping_name": "Marie Curie", "shipping_line1": "11 rue Pierre et Marie Curie",
               "shipping_city": "Paris", "shipping_postal_code": "75005",
               "shipping_country": "FR"}  # fmt: skip
    response = pay_page(client, path, shipping_rate=rate_id(page, "Express"), **address)
    assert response.status_code == 303
    [order] = orders(app)
    assert (order.status, order.total_cents, order.shipping_cents) == ("paid", MUG + 1200, 1200)
    assert order.shipping_rate == "Express (1–2 business days)"
    assert order.shipping_address["country"] == "FR"
    assert order.shipping_address["city"] == "Paris"
    html = admin.client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert 'data-ship-country="FR"' in html and 'data-shipping-cents="1200"' in html
    assert "Marie Curie<br>11 rue Pierre et Marie Curie<br>75005 Paris<br>France" in html
    assert '<p class="ship-rate">Express (1–2 business days)</p>' in html and "$30.00" in html
    text = email(app, "receipt").get_body(("plain",)).get_content()
    assert "Hello Marie Curie," in text
    assert "Shipping (Express (1–2 business days))  $12.00" in text
    assert "Total paid: $30.00" in text and "75005 Paris" in text and "France" in text


def test_a_refund_of_everything_left_includes_the_shipping(app, client, admin, user, seeded, rates):
    path = open_checkout(app, client, seeded["MUG-STONE"])
    assert pay_page(client, path).status_code == 303
    [order] = orders(app)
    assert order.total_cents == MUG + 490
    assert refund(admin.client, order.id, amount="30.00").status_code == 422  # over the total
    assert refund(admin.client, order.id, full="on").status_code == 303
    assert (stored(app, order.id).refunded_cents, stored(app, order.id).status) == (
        MUG + 490,
        "refunded",
    )


def test_the_cheapest_rate_is_free_over_the_threshold(app, client, user, seeded, rates):
    path = open_checkout(app, client, seeded["GEAR-KETTLE"], 2)  # $108.00, over $60.00
    page = client.get(path).get_data(as_text=True)
    assert "Standard (3–5 business days), free over $60.00: free" in page
    assert pay_page(client, path).status_code == 303
    [order] = orders(app)
    assert (order.total_cents, order.shipping_cents) == (2 * KETTLE, 0)
    assert order.shipping_rate.startswith("Standard")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"shipping_country": "JP"}, "This shop does not ship to JP; it ships to US, DE, FR"),
        ({"shipping_line1": ""}, "Fill in the shipping address: address."),
        ({"shipping_rate": "shr_somebody_elses"}, "Choose one of the shipping options offered."),
    ],
)
def test_an_address_or_rate_the_page_cannot_use_charges_nothing(
    app, client, user, seeded, rates, fields, words
):
    path = open_checkout(app, client, seeded["MUG-STONE"])
    response = pay_page(client, path, **fields)
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert session_of(app, path)["status"] == "open"
    assert [order.status for order in orders(app)] == ["pending"]


def test_without_rates_the_address_is_still_collected_and_shipping_is_free(
    app, client, user, seeded
):
    path = open_checkout(app, client, seeded["MUG-STONE"])
    assert session_of(app, path)["shipping_options"] == []
    assert pay_page(client, path, shipping_country="NL").status_code == 303
    [order] = orders(app)
    assert (order.total_cents, order.shipping_cents, order.shipping_rate) == (MUG, 0, None)
    assert order.shipping_address["country"] == "NL"


def test_an_order_without_an_address_ships_only_when_the_admin_confirms(app, admin, user, seeded):
    [order_id] = make_orders(app, user, seeded["MUG-STONE"], shipping_address=None)
    page = admin.client.get(f"/admin/orders/{order_id}").get_data(as_text=True)
    assert "No shipping address on this order" in page and "data-ship-country" not in page
    refused = ship(admin.client, order_id, carrier="UPS")
    assert refused.status_code == 409
    assert "has no shipping address" in refused.get_data(as_text=True)
    assert stored(app, order_id).fulfilment == "unfulfilled"
    assert ship(admin.client, order_id, carrier="UPS", confirm_no_address="on").status_code == 303
    assert stored(app, order_id).fulfilment == "shipped"
    assert "confirmed shipping without an address" in timeline(app, order_id)[-1][3]


def test_the_shipping_email_links_the_tracking_number_and_shows_the_address(
    app, admin, user, seeded
):
    [order_id] = make_orders(app, user, seeded["MUG-STONE"])
    assert ship(admin.client, order_id, carrier="UPS", tracking_number="1Z999AA10123456784")
    notice = email(app, "shipping")
    html = notice.get_body(("html",)).get_content()
    text = notice.get_body(("plain",)).get_content()
    assert 'href="https://www.ups.com/track?tracknum=1Z999AA10123456784"' in html
    assert "Follow it: https://www.ups.com/track?tracknum=1Z999AA10123456784" in text
    assert f"Hello {ADDRESS['name']}," in text
    assert "12 Analytical Row" in text and "10115 Berlin" in text and "Germany" in text


def test_a_carrier_we_do_not_know_gets_no_link():
    assert shipping.tracking_url("Bob's Bikes", "42") is None
    assert shipping.tracking_url("royal  MAIL", "AB 12") == (
        "https://www.royalmail.com/track-your-item#/tracking-results/AB%2012"
    )


def test_offers_are_cheapest_first_and_free_from_the_threshold():
    rates = shipping.rates("express:12.00:eur:1-2,standard:4.90:eur:3-5,standard:5.90:usd:4")
    under = shipping.offers(rates, {"eur": 5000}, "eur", 4999)
    assert [(o.rate.name, o.amount_cents) for o in under] == [("standard", 490), ("express", 1200)]
    at = shipping.offers(rates, {"eur": 5000}, "eur", 5000)
    assert [o.amount_cents for o in at] == [0, 1200]
    assert shipping.offers(rates, {}, "usd", 10**6)[0].label == "Standard (4 business days)"
    assert shipping.offers(rates, {}, "gbp", 100) == ()


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("SHIP_TO_COUNTRIES", "USA,DE", "SHIP_TO_COUNTRIES must list two-letter country codes"),
        ("SHIP_TO_COUNTRIES", "", "SHIP_TO_COUNTRIES must list"),
        ("SHIPPING_RATES", "standard:4.90:eur", "is not name:amount:currency:days"),
        ("SHIPPING_RATES", "standard:4.9x:eur:3-5", "Enter an amount like 12.50"),
        ("SHIPPING_RATES", "standard:4.90:eur:5-3", "days run from at least 1, the lower first"),
        ("SHIPPING_RATES", "Standard!:4.90:eur:3", "a name is a-z, 0-9, - or _"),
        ("SHIPPING_RATES", "a:1:eur:1,a:2:eur:2", "a in eur is listed twice"),
        ("SHIPPING_RATES", ",".join(f"r{i}:1:eur:1" for i in range(6)), "at most 5 rates"),
        ("FREE_SHIPPING_OVER", "50.00", "is not amount:currency"),
        ("FREE_SHIPPING_OVER", "fifty:eur", "Enter an amount like 12.50"),
    ],
)
def test_a_shipping_setting_that_cannot_be_read_stops_start_up(tmp_path, name, value, words):
    env = {"FLASK_DEBUG": "1", name: value}
    with pytest.raises(ConfigError, match=re.escape(words)):
        load_config(env, str(tmp_path))


def test_the_defaults_read_as_documented(tmp_path):
    config = load_config({"FLASK_DEBUG": "1"}, str(tmp_path))
    assert config["SHIP_TO_COUNTRIES"] == ("US", "DE", "FR", "NL", "GB")
    assert {(r.name, r.currency, r.amount_cents) for r in config["SHIPPING_RATES"]} == {
        ("standard", "usd", 490), ("express", "usd", 1200),
        ("standard", "eur", 490), ("express", "eur", 1200),
    }  # fmt: skip
    assert config["FREE_SHIPPING_OVER"] == {"eur": 5000, "usd": 6000}
    assert (
        load_config({"FLASK_DEBUG": "1", "SHIPPING_RATES": ""}, str(tmp_path))["SHIPPING_RATES"]
        == ()
    )
