"""My Orders keeps each row's HTML per worker (shop/orders/listing.py): never a stale row.

Every row shows its order as the database has it at this request, whatever changed it
(the lifecycle, a raw UPDATE that leaves updated_at alone, another database reusing the
ids), and as it stands at this moment (a checkout that just expired); nobody sees another
customer's rows; and the statements stay the same whether the rows were kept or not.
"""

from datetime import timedelta

import pytest
from cart_helpers import HTMX, login_client
from sqlalchemy import delete, update

from checkout_helpers import make_orders
from conftest import count_queries
from shop import fragments
from shop.extensions import db
from shop.models import utcnow
from shop.orders import lifecycle, listing
from shop.orders.lifecycle import Origin
from shop.orders.models import Order, OrderItem, Source

SESSION_URL = "https://checkout.stripe.com/c/pay/cs_test_kept"
BY = Origin(Source.SYSTEM)


def my_orders(client) -> str:
    """The My Orders fragment, as htmx asks for it."""
    response = client.get("/orders", headers=HTMX)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def pending(app, user_id: int, product_id: int, minutes: int = 30) -> int:
    """A pending order whose Checkout Session expires in `minutes`; its id."""
    [order_id] = make_orders(
        app,
        user_id,
        product_id,
        status="pending",
        session_url=SESSION_URL,
        expires_at=utcnow() + timedelta(minutes=minutes),
    )
    return order_id


@pytest.fixture(autouse=True)
def cold_worker():
    """Each test starts with nothing kept, as a fresh worker does."""
    listing.forget_all()
    yield
    listing.forget_all()


def test_a_row_kept_then_paid_shows_paid_and_stops_polling(app, client, user, seeded):
    order_id = pending(app, user, seeded["MUG-STONE"])
    html = my_orders(client)
    assert f'data-order-id="{order_id}" data-status="pending"' in html
    assert "Resume payment" in html and 'hx-trigger="every 3s"' in html
    assert my_orders(client) == html  # kept, and alike
    with app.app_context():
        assert lifecycle.move(order_id, "paid", BY, paid_at=utcnow())
        db.session.commit()
    html = my_orders(client)
    assert f'data-order-id="{order_id}" data-status="paid" data-fulfilment="unfulfilled"' in html
    assert "Resume payment" not in html and "every 3s" not in html


def test_a_row_kept_then_refunded_or_shipped_shows_it(app, client, user, seeded):
    refunded, shipped = make_orders(app, user, seeded["MUG-STONE"], 2)
    html = my_orders(client)
    assert html.count('data-status="paid"') == 2 and "Refunded" not in html
    with app.app_context():
        lifecycle.settle_refunds(refunded, 400, BY)
        lifecycle.ship(shipped, BY, carrier="UPS", tracking_number="1Z999AA10123456784")
        db.session.commit()
    html = my_orders(client)
    assert f'data-order-id="{refunded}" data-status="partially_refunded"' in html
    assert 'data-refunded-cents="400">Refunded $4.00' in html
    assert f'data-order-id="{shipped}" data-status="paid" data-fulfilment="shipped"' in html
    assert "UPS" in html and "1Z999AA10123456784" in html


def test_a_change_that_leaves_updated_at_alone_shows_too(app, client, user, seeded):
    [order_id] = make_orders(app, user, seeded["MUG-STONE"], 1)
    assert 'data-status="paid"' in my_orders(client)
    with app.app_context():
        db.session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(status="refunded", refunded_cents=1000, updated_at=Order.updated_at)
        )
        db.session.commit()
    html = my_orders(client)
    assert 'data-status="refunded"' in html and 'data-refunded-cents="1000"' in html


def test_a_kept_row_stops_offering_resume_once_its_session_expired(
    app, client, user, seeded, monkeypatch
):
    pending(app, user, seeded["MUG-STONE"], minutes=5)
    assert "Resume payment" in my_orders(client)
    # Nothing changed in the database: only the time passed the session's expiry.
    later = utcnow() + timedelta(minutes=6)
    monkeypatch.setattr(listing, "utcnow", lambda: later)
    html = my_orders(client)
    assert 'data-status="pending"' in html and "Resume payment" not in html
    assert 'hx-trigger="every 3s"' in html  # still waiting for Stripe's word


def test_an_id_used_again_by_another_order_shows_that_order_s_lines(app, client, user, seeded):
    [order_id] = make_orders(app, user, seeded["MUG-STONE"], 1)
    assert "Thing" in my_orders(client)
    with app.app_context():  # as a fresh database does: the same id, another order
        db.session.execute(delete(OrderItem).where(OrderItem.order_id == order_id))
        db.session.execute(delete(Order).where(Order.id == order_id))
        db.session.add(
            Order(
                id=order_id,
                user_id=user,
                status="paid",
                currency="usd",
                total_cents=1000,
                cart_fingerprint="g",
                paid_at=utcnow(),
                items=[
                    OrderItem(
                        product_id=seeded["MUG-STONE"],
                        name="Other thing",
                        unit_price_cents=1000,
                        quantity=1,
                    )
                ],
            )
        )
        db.session.commit()
    html = my_orders(client)
    assert f'data-order-id="{order_id}"' in html
    assert "Other thing" in html and "2 × Thing" not in html


def test_another_customer_never_sees_my_kept_rows(app, client, auth, user, seeded, monkeypatch):
    monkeypatch.setattr(fragments, "MAX_SLOTS", 1)  # each request drops the other's rows
    mine = make_orders(app, user, seeded["MUG-STONE"], 3)
    eve = auth.create_user("eve@example.com")
    hers = make_orders(app, eve, seeded["MUG-STONE"], 2, currency="eur")
    eve_client = login_client(app, "eve@example.com")
    for _ in range(2):
        html, her_html = my_orders(client), my_orders(eve_client)
        assert all(f'data-order-id="{i}"' in html for i in mine)
        assert not any(f'data-order-id="{i}"' in html for i in hers) and "€" not in html
        assert all(f'data-order-id="{i}"' in her_html for i in hers)
        assert not any(f'data-order-id="{i}"' in her_html for i in mine) and "$" not in her_html
    auth.create_user("zoe@example.com")
    assert "data-order-id" not in my_orders(login_client(app, "zoe@example.com"))


def test_kept_rows_are_the_rows_rendered_afresh(app, client, user, seeded):
    make_orders(app, user, seeded["MUG-STONE"], 3)
    pending(app, user, seeded["MUG-STONE"])
    kept = (my_orders(client), my_orders(client))
    listing.forget_all()
    assert kept == (my_orders(client), my_orders(client))


@pytest.mark.parametrize(("headers", "most"), [(HTMX, 3), ({}, 4)], ids=["fragment", "page"])
def test_statements_are_the_same_kept_or_not_for_1_50_and_200_orders(
    app, client, user, seeded, headers, most
):
    def statements() -> int:
        with count_queries(app) as run:
            assert client.get("/orders", headers=headers).status_code == 200
        return len(run)

    counts = []
    for more in (1, 49, 150):
        make_orders(app, user, seeded["MUG-STONE"], more)
        counts.append(statements())  # the new rows rendered
        counts.append(statements())  # every row kept
    [order_id] = make_orders(app, user, seeded["MUG-STONE"], 1, status="pending")
    counts.append(statements())
    with app.app_context():
        lifecycle.move(order_id, "paid", BY, paid_at=utcnow())
        db.session.commit()
    counts.append(statements())  # one row changed
    listing.forget_all()
    counts.append(statements())  # a cold worker
    assert len(set(counts)) == 1 and counts[0] <= most, counts
