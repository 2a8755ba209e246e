"""Shipping an order from the admin page: a paid (or partly refunded) order ships once,
recorded on its timeline with the admin who did it; anything else is refused with nothing
changed; the customer sees it in My Orders."""

import pytest

from admin_helpers import paid, set_order, ship, stored, timeline
from conftest import all_at_once, csrf_token
from shop.extensions import db
from shop.orders import shipping
from shop.orders.models import Order

TRACKING = "1Z 999 AA1-0123456784"


@pytest.fixture
def paid_order(app, order):
    """The customer's order for 2 Ethiopia + 1 mug, paid on the emulator's page."""
    return paid(app, order)


def test_an_admin_ships_a_paid_order_with_carrier_and_tracking(app, admin, paid_order):
    response = ship(admin.client, paid_order.id, carrier="UPS", tracking_number=TRACKING)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/orders/{paid_order.id}"
    order = stored(app, paid_order.id)
    assert (order.fulfilment, order.carrier, order.tracking_number) == ("shipped", "UPS", TRACKING)
    assert order.shipped_at is not None and order.status == "paid"
    assert timeline(app, paid_order.id)[-1] == (
        "shipped",
        "admin",
        admin.id,
        f"UPS, tracking {TRACKING}",
    )

    page = admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Order #{paid_order.id} is marked shipped." in page  # the flash after the redirect
    assert 'data-fulfilment="shipped"' in page and TRACKING in page
    assert "boss@example.com" in page.split('id="timeline"')[1]  # who did it


def test_carrier_and_tracking_number_are_optional(app, admin, paid_order):
    assert ship(admin.client, paid_order.id).status_code == 303
    order = stored(app, paid_order.id)
    assert (order.fulfilment, order.carrier, order.tracking_number) == ("shipped", None, None)
    assert timeline(app, paid_order.id)[-1][3] == "no tracking number"


def test_a_second_shipment_changes_nothing_and_says_so(app, admin, paid_order):
    ship(admin.client, paid_order.id, carrier="UPS", tracking_number="FIRST-1")
    first = stored(app, paid_order.id)
    response = ship(
        admin.client, paid_order.id, htmx=True, carrier="DHL", tracking_number="OTHER-2"
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "had already shipped" in html and "nothing was changed" in html
    again = stored(app, paid_order.id)
    assert (again.carrier, again.tracking_number, again.shipped_at) == (
        "UPS",
        "FIRST-1",
        first.shipped_at,
    )
    assert [kind for kind, *_ in timeline(app, paid_order.id)].count("shipped") == 1


def test_htmx_gets_the_order_back_with_its_new_state(app, admin, paid_order):
    response = ship(admin.client, paid_order.id, htmx=True, tracking_number=TRACKING)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<article id="admin-order"')
    assert f'data-order-id="{paid_order.id}"' in html and 'data-fulfilment="shipped"' in html
    assert "is marked shipped" in html and TRACKING in html
    assert 'data-kind="shipped"' in html  # the timeline came along
    assert "Mark shipped" not in html  # no form once shipped


def test_a_partly_refunded_order_ships(app, admin, paid_order):
    set_order(app, paid_order.id, status="partially_refunded", refunded_cents=100)
    assert ship(admin.client, paid_order.id).status_code == 303
    assert stored(app, paid_order.id).fulfilment == "shipped"


@pytest.mark.parametrize("status", ["pending", "expired", "cancelled", "failed", "refunded"])
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_an_order_that_is_not_paid_cannot_ship(app, admin, order, status, htmx):
    set_order(app, order.id, status=status)
    response = ship(admin.client, order.id, htmx=htmx, carrier="UPS")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert f"Order #{order.id} is {status}: only paid or partly refunded orders can ship." in html
    assert "Nothing was changed." in html
    assert stored(app, order.id).fulfilment == "unfulfilled"
    assert "shipped" not in [kind for kind, *_ in timeline(app, order.id)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"carrier": "x" * 65}, "Keep the carrier to 64 characters."),
        ({"tracking_number": "9" * 65}, "Keep the tracking number to 64 characters."),
        ({"tracking_number": "<script>"}, "only letters, digits, spaces and dashes"),
        ({"tracking_number": "-1"}, "only letters, digits, spaces and dashes"),
        ({"carrier": "UPS\x07"}, "characters that cannot be shown"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_bad_input_is_refused_with_the_reason_and_nothing_changed(
    app, admin, paid_order, fields, message, htmx
):
    response = ship(admin.client, paid_order.id, htmx=htmx, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "Nothing was changed" in html
    assert stored(app, paid_order.id).fulfilment == "unfulfilled"
    assert ("<html" in html) is not htmx


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("token", [None, "garbage"], ids=["missing", "garbage"])
def test_without_a_valid_csrf_token_nothing_ships(app, admin, paid_order, token, htmx):
    response = ship(admin.client, paid_order.id, htmx=htmx, token=token, carrier="UPS")
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    assert stored(app, paid_order.id).fulfilment == "unfulfilled"


def test_an_unknown_order_is_404(admin):
    token = csrf_token(admin.client, "/admin")
    response = admin.client.post("/admin/orders/999999/shipment", data={"csrf_token": token})
    assert response.status_code == 404


def test_racing_shipments_ship_once_with_one_timeline_entry(app, admin, paid_order):
    def attempt(n: int) -> bool:
        return shipping.ship_order(paid_order.id, admin.id, "UPS", f"RACE-{n}").shipped_now

    outcomes = all_at_once(app, 6, attempt)
    assert sorted(outcomes) == [False] * 5 + [True]
    assert [kind for kind, *_ in timeline(app, paid_order.id)].count("shipped") == 1


def test_the_service_refuses_unknown_and_unpaid_orders(app, order):
    with app.app_context():
        with pytest.raises(shipping.OrderNotFound):
            shipping.ship_order(order.id + 1000, 1)
        with pytest.raises(shipping.NotShippable):
            shipping.ship_order(order.id, 1)
        assert db.session.get(Order, order.id).fulfilment == "unfulfilled"


# --- what the customer sees ------------------------------------------------------------------


def test_my_orders_shows_the_shipment_and_tracking_number(app, client, admin, paid_order):
    html = client.get("/orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-fulfilment="unfulfilled"' in html and "Shipped" not in html
    ship(admin.client, paid_order.id, carrier="UPS", tracking_number=TRACKING)
    html = client.get("/orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="paid"' in html and 'data-fulfilment="shipped"' in html
    assert "Shipped" in html and "UPS" in html and TRACKING in html


def test_unpaid_orders_carry_no_fulfilment_in_my_orders(client, order):
    html = client.get("/orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="pending"' in html and "data-fulfilment" not in html


def test_shipping_owes_the_customer_one_shipping_notice(app, admin, paid_order):
    from sqlalchemy import select

    from shop.notifications.models import OutboxMessage

    ship(admin.client, paid_order.id, carrier="UPS", tracking_number=TRACKING)
    ship(admin.client, paid_order.id, carrier="DHL", tracking_number="OTHER-1")  # changes nothing
    with app.app_context():
        owed = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "shipping")
        ).all()
        assert [(m.recipient, m.order_id) for m in owed] == [("ada@example.com", paid_order.id)]
        assert owed[0].context["carrier"] == "UPS"
        assert owed[0].context["tracking_number"] == TRACKING
