"""Times as customers and admins read them: in the shop's time zone (SHOP_TIME_ZONE), named,
never a bare UTC; marked up for shop.js to show the reader's own zone. A zone the database
does not know stops start-up."""

from datetime import UTC, datetime

import pytest

from checkout_helpers import make_orders
from shop.config import ConfigError, load_config

#: 03:19 UTC on 7 December is the evening before in Portland (PST, UTC-8).
PLACED = datetime(2026, 12, 7, 3, 19, 5, tzinfo=UTC)
PAID = datetime(2026, 7, 1, 18, 30, tzinfo=UTC)  # summer: PDT, UTC-7


def test_my_orders_gives_times_in_the_shops_zone_named(app, client, user, seeded):
    make_orders(app, user, seeded["MUG-STONE"], created_at=PLACED, paid_at=PAID)
    html = client.get("/orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert (
        '<time datetime="2026-12-07T03:19:05+00:00" data-local>06 Dec 2026, 19:19 PST</time>'
        in html
    )
    assert "01 Jul 2026, 11:30 PDT" in html
    assert "UTC" not in html


def test_another_shop_zone_is_used_and_named(app, client, user, seeded):
    app.config["SHOP_TIME_ZONE"] = "Europe/Berlin"
    [order_id] = make_orders(app, user, seeded["MUG-STONE"], created_at=PLACED)
    html = client.get(f"/orders/{order_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert ">07 Dec 2026, 04:19 CET</time>" in html


def test_the_admin_order_page_uses_the_shops_zone_too(app, admin, user, seeded):
    [order_id] = make_orders(app, user, seeded["MUG-STONE"], created_at=PLACED, paid_at=PLACED)
    html = admin.client.get(f"/admin/orders/{order_id}").get_data(as_text=True)
    assert "<dt>Placed</dt><dd><time" in html and ">06 Dec 2026, 19:19 PST</time>" in html
    assert " UTC</time>" not in html


def test_the_default_zone_is_the_shops_own_and_a_named_zone_is_taken(tmp_path):
    assert load_config({"FLASK_DEBUG": "1"}, str(tmp_path))["SHOP_TIME_ZONE"] == (
        "America/Los_Angeles"
    )
    config = load_config({"FLASK_DEBUG": "1", "SHOP_TIME_ZONE": " Europe/Paris "}, str(tmp_path))
    assert config["SHOP_TIME_ZONE"] == "Europe/Paris"


@pytest.mark.parametrize("value", ["Mars/Olympus", "PST8PDT/x", "../etc/passwd", "Europe/"])
def test_a_zone_the_database_does_not_know_stops_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match="SHOP_TIME_ZONE must be a time zone name"):
        load_config({"FLASK_DEBUG": "1", "SHOP_TIME_ZONE": value}, str(tmp_path))
