"""My Orders: the modal body and page, newest first, scoped to the customer."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from checkout_helpers import add, checkout, make_orders, orders
from conftest import count_queries, csrf_token
from shop.extensions import db
from shop.models import utcnow
from shop.orders.lifecycle import ALLOWED, Origin, TransitionError, move
from shop.orders.models import Order, OrderStatus, Source


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


# --- One order's detail: GET /orders/<id> ------------------------------------------------------


def test_each_row_links_to_its_detail(app, client, user, seeded):
    make_orders(app, user, seeded["MUG-STONE"], 2)
    html = client.get("/orders", headers={"HX-Request": "true"}).get_data(as_text=True)
    for order in orders(app):
        assert (
            f'<a id="order-link-{order.id}" class="order-number" href="/orders/{order.id}" '
            f'hx-get="/orders/{order.id}" hx-target="#orders-body">Order #{order.id}</a>'
        ) in html


def test_the_detail_shows_lines_totals_and_the_timeline_in_words(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"], 2)
    add(client, seeded["MUG-STONE"])
    checkout(client)
    [order] = orders(app)
    with app.app_context():
        move(order.id, OrderStatus.PAID, Origin(Source.WEBHOOK, "evt_1"), paid_at=utcnow())
        db.session.commit()
    response = client.get(f"/orders/{order.id}", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert f'data-order-id="{order.id}" data-status="paid"' in html
    assert "2 × Ethiopia Yirgacheffe, 250\u00a0g" in html and "($14.50 each)" in html
    assert '<strong class="order-total">$47.00</strong>' in html
    kinds = re.findall(r'<li data-kind="([^"]+)">.*?<span class="timeline-what">([^<]+)', html)
    assert kinds == [("created", "Order placed; waiting for payment"), ("paid", "Payment received")]
    assert "evt_1" not in html and "webhook" not in html  # where a change came from is ours
    assert "Resume payment" not in html and "every 3s" not in html
    assert ">Continue shopping</button>" in html and 'href="/orders"' in html


def test_a_pending_detail_offers_resume_and_polls_itself(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    checkout(client)
    [order] = orders(app)
    html = client.get(f"/orders/{order.id}", headers={"HX-Request": "true"}).text
    assert f'hx-get="/orders/{order.id}" hx-trigger="every 3s"' in html
    assert f'<a id="resume-{order.id}" class="button resume" href="{order.session_url}">' in html


def test_the_detail_without_htmx_is_the_page_with_my_orders_open(app, client, user, seeded):
    make_orders(app, user, seeded["MUG-STONE"], 1)
    [order] = orders(app)
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "<html" in html and re.search(r'<dialog id="orders-dialog"[^>]* open data-open', html)
    assert 'class="order order-detail"' in html and "2 × Thing" in html


@pytest.mark.parametrize("kind", ["refund", "shipped", "partially_refunded", "refunded"])
def test_timeline_entries_customers_see_have_words(kind):
    from shop.orders.routes import timeline_words

    words = timeline_words(kind)
    assert words and "_" not in words


@pytest.mark.parametrize("kind", ["attention", "email_failed", "refund_failed", "stock_returned"])
def test_the_shops_own_notes_are_not_shown_to_customers(kind):
    from shop.orders.routes import timeline_words

    assert timeline_words(kind) is None


def test_an_unknown_order_is_404_and_needs_login(app, client, user, seeded):
    assert client.get("/orders/424242").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert client.get("/orders/1").status_code == 302


def outcome_count(outcome: str) -> float:
    """shop_orders_total for `outcome`, as this process counted it."""
    from shop import metrics

    return metrics.ORDERS.labels(outcome=outcome)._value.get()


def test_refund_settlements_move_by_their_own_table_counted_once_and_on_the_timeline(
    app, user, seeded
):
    from shop.orders.lifecycle import REFUND_MOVES, settle_refunds
    from shop.orders.models import OrderEvent

    [order_id] = make_orders(app, user, seeded["MUG-STONE"], total_cents=1000)
    by = Origin(Source.WEBHOOK, "evt_refund")
    before = {o: outcome_count(o) for o in ("paid", "partially_refunded", "refunded")}
    with app.app_context():
        for refunded, status in ((400, "partially_refunded"), (1000, "refunded"), (0, "paid")):
            assert settle_refunds(order_id, refunded, by) is True
            db.session.commit()
            assert db.session.get(Order, order_id).status == status
        assert settle_refunds(order_id, 0, by) is True  # the same figure again: no move
        db.session.commit()
        kinds = [
            event.kind
            for event in db.session.scalars(
                db.select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
            )
        ]
    assert kinds[-3:] == ["partially_refunded", "refunded", "paid"]
    # Money going back is counted once each; a refund failing back to paid is no new sale.
    assert outcome_count("partially_refunded") == before["partially_refunded"] + 1
    assert outcome_count("refunded") == before["refunded"] + 1
    assert outcome_count("paid") == before["paid"]
    # No payment event can take a refunded order back: that move is only in REFUND_MOVES.
    assert "paid" not in ALLOWED[OrderStatus.REFUNDED]
    assert "paid" in REFUND_MOVES[OrderStatus.REFUNDED]


def test_the_detail_shows_the_shipping_line_and_where_the_order_goes(app, client, user, seeded):
    [order_id] = make_orders(
        app, user, seeded["MUG-STONE"], total_cents=4090, shipping_cents=490,
        shipping_rate="Standard",
    )  # fmt: skip
    html = client.get(f"/orders/{order_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert re.search(r'order-subtotal"><span>Subtotal</span> <span>\$36\.00</span>', html)
    assert (
        '<p class="order-foot order-shipping" data-shipping-cents="490"><span>Shipping '
        "(Standard)</span> <span>$4.90</span></p>"
    ) in html
    assert '<strong class="order-total">$40.90</strong>' in html
    assert 'data-ship-country="DE">Ada Lovelace<br>12 Analytical Row<br>10115 Berlin' in html


def test_an_order_without_shipping_shows_no_shipping_line(app, client, user, seeded):
    [order_id] = make_orders(app, user, seeded["MUG-STONE"], shipping_address=None)
    html = client.get(f"/orders/{order_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "order-shipping" not in html and "Ships to" not in html
