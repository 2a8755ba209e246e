"""My Orders: the modal body and page, newest first, scoped to the customer."""

from datetime import timedelta

from sqlalchemy import update

from checkout_helpers import add, checkout, make_orders, orders
from conftest import count_queries
from shop.extensions import db
from shop.models import utcnow
from shop.orders.lifecycle import ALLOWED, Origin, TransitionError, move
from shop.orders.models import Order, Source


def test_orders_fragment_lists_newest_first_with_status_attributes(app, client, user, seeded):
    make_orders(app, user, seeded["MUG-STONE"], 3)
    response = client.get("/orders", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    ids = [o.id for o in orders(app)]
    positions = [html.index(f'data-order-id="{i}"') for i in reversed(ids)]
    assert positions == sorted(positions)
    assert html.count('data-status="paid"') == 3
    assert "<html" not in html and "HX-Request" in response.headers["Vary"]


def test_orders_without_htmx_is_the_page_with_the_modal_open(client, user, seeded):
    html = client.get("/orders").get_data(as_text=True)
    assert "<html" in html and "data-open" in html and "No orders yet" in html
    assert 'class="card-title"' in html  # the catalogue is still there behind the modal


def test_pending_order_offers_resume_and_the_modal_polls(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    checkout(client)
    html = client.get("/orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    [order] = orders(app)
    assert 'data-status="pending"' in html and "Resume payment" in html
    assert f'href="{order.session_url}"' in html
    assert 'hx-trigger="every 3s"' in html


def test_no_polling_and_no_resume_once_nothing_is_pending(app, client, user, seeded):
    make_orders(app, user, seeded["MUG-STONE"], 1)
    html = client.get("/orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "every 3s" not in html and "Resume payment" not in html


def test_expired_session_offers_no_resume(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    checkout(client)
    with app.app_context():
        db.session.execute(update(Order).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    html = client.get("/orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Resume payment" not in html


def test_customers_only_see_their_own_orders(app, client, auth, user, seeded):
    other = auth.create_user("eve@example.com")
    make_orders(app, other, seeded["MUG-STONE"], 2)
    html = client.get("/orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "data-order-id" not in html


def test_orders_query_count_does_not_grow_with_orders(app, client, user, seeded):
    make_orders(app, user, seeded["MUG-STONE"], 1)
    with count_queries(app) as one:
        client.get("/orders", headers={"HX-Request": "true"})
    make_orders(app, user, seeded["MUG-STONE"], 199)
    with count_queries(app) as many:
        client.get("/orders", headers={"HX-Request": "true"})
    assert len(one) == len(many) <= 3


def test_orders_need_login(client):
    assert client.get("/orders").status_code == 302
    assert client.get("/orders", headers={"HX-Request": "true"}).status_code == 401


def test_transitions_allow_only_the_documented_moves(app, user, seeded):
    make_orders(app, user, seeded["MUG-STONE"], 1, status="pending")
    [order] = orders(app)
    by = Origin(Source.SYSTEM)
    with app.app_context():
        assert move(order.id, "paid", by) is True
        assert move(order.id, "paid", by) is False  # already paid: the guard does nothing
        try:
            move(order.id, "pending", by)
        except TransitionError:
            pass
        else:
            raise AssertionError("paid -> pending must be refused")
        assert move(order.id, "refunded", by) is True
        db.session.commit()
    assert orders(app)[0].status == "refunded"
    assert all(target != "pending" for targets in ALLOWED.values() for target in targets)
