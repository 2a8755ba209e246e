"""`GET /admin/orders.csv`: the list's filters, one row per order, money in major units, a
BOM and a dated filename; formula-safe cells; admins only; rate limited; recorded."""

import csv
import io
import tracemalloc

import pytest
from sqlalchemy import insert, select

from checkout_helpers import make_orders
from conftest import count_queries
from shop.admin.export import COLUMNS, safe
from shop.admin.models import AdminAction
from shop.extensions import db
from shop.models import utcnow
from shop.orders.models import Order


def parsed(response) -> list[dict]:
    """The CSV's rows as dicts (the BOM checked and dropped)."""
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def product(seeded):
    return next(iter(seeded.values()))


def test_every_order_one_row_with_money_in_major_units(app, admin, user, product):
    [paid] = make_orders(app, user, product, total_cents=4750, refunded_cents=250)
    [pending] = make_orders(app, user, product, status="pending", currency="eur")
    [yen] = make_orders(app, user, product, currency="jpy", total_cents=500)
    response = admin.client.get("/admin/orders.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    today = utcnow().strftime("%Y-%m-%d")
    assert response.headers["Content-Disposition"] == f'attachment; filename="orders-{today}.csv"'
    assert response.is_streamed
    rows = parsed(response)
    assert list(rows[0]) == list(COLUMNS)
    by_number = {int(row["number"]): row for row in rows}
    assert set(by_number) == {paid, pending, yen}
    row = by_number[paid]
    assert (row["customer"], row["status"], row["fulfilment"], row["currency"]) == (
        "ada@example.com", "paid", "unfulfilled", "USD"
    )  # fmt: skip
    assert (row["subtotal"], row["discount"], row["tax"], row["total"], row["refunded"]) == (
        "47.50", "0.00", "0.00", "47.50", "2.50"
    )  # fmt: skip
    assert row["paid"].startswith(today) and row["shipped"] == "" and row["code"] == ""
    assert by_number[pending]["paid"] == "" and by_number[pending]["currency"] == "EUR"
    assert by_number[yen]["total"] == "500"


def test_the_list_filters_apply(app, admin, user, product):
    make_orders(app, user, product, count=2)
    [pending] = make_orders(app, user, product, status="pending")
    rows = parsed(admin.client.get("/admin/orders.csv?status=pending"))
    assert [int(row["number"]) for row in rows] == [pending]
    assert parsed(admin.client.get("/admin/orders.csv?q=nobody@example.com")) == []
    refused = admin.client.get("/admin/orders.csv?status=lost")
    assert refused.status_code == 400 and "is not a status" in refused.get_data(as_text=True)


def test_a_lost_dispute_counts_in_the_refunded_column(app, admin, user, product):
    [order_id] = make_orders(app, user, product, total_cents=4700, refunded_cents=1200,
                             dispute="lost", dispute_lost_cents=3500)  # fmt: skip
    [row] = parsed(admin.client.get("/admin/orders.csv"))
    assert (row["number"], row["refunded"]) == (str(order_id), "47.00")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_is_escaped(start):
    assert safe(f"{start}1+1") == f"'{start}1+1"
    assert safe("ada@example.com") == "ada@example.com"


def test_a_customer_whose_email_is_a_formula_is_exported_inert(app, auth, admin, product):
    email = "=1+2@example.com"
    assert auth.register(email=email).status_code in (302, 303)
    with app.app_context():
        from shop.auth.models import User

        user_id = db.session.scalar(select(User.id).where(User.email == email))
    make_orders(app, user_id, product)
    [row] = parsed(admin.client.get("/admin/orders.csv"))
    assert row["customer"] == "'" + email


def test_customers_and_visitors_get_no_export(app, client, user):
    assert client.get("/admin/orders.csv").status_code == 404
    app.test_client().get("/logout")
    visitor = app.test_client().get("/admin/orders.csv")
    assert visitor.status_code in (302, 303) and "/login" in visitor.headers["Location"]


def test_exports_are_recorded_and_rate_limited(app, admin, user, product):
    app.config["EXPORT_RATE_LIMIT"] = "2 per hour"
    make_orders(app, user, product)
    assert admin.client.get("/admin/orders.csv?status=paid").status_code == 200
    assert admin.client.get("/admin/orders.csv").status_code == 200
    refused = admin.client.get("/admin/orders.csv")
    assert refused.status_code == 429
    assert admin.client.get("/admin/orders").status_code == 200  # the list is not limited
    with app.app_context():
        actions = db.session.execute(
            select(AdminAction.admin_id, AdminAction.action, AdminAction.detail).order_by(
                AdminAction.id
            )
        ).all()
    assert [tuple(a) for a in actions] == [
        (admin.id, "orders_export", "status=paid"),
        (admin.id, "orders_export", ""),
    ]


def many_orders(app, user_id: int, count: int) -> None:
    """`count` paid orders straight in the database, in one statement."""
    now = utcnow()
    rows = [
        {"user_id": user_id, "status": "paid", "currency": "usd", "total_cents": 1000 + n,
         "cart_fingerprint": "f", "paid_at": now, "created_at": now, "updated_at": now,
         "checkout_key": f"k{n:08d}", "stock_hold": "sold"}
        for n in range(count)
    ]  # fmt: skip
    with app.app_context():
        db.session.execute(insert(Order), rows)
        db.session.commit()


def export_figures(app, client) -> tuple[int, int, int]:
    """(rows, statements, peak bytes allocated) of one export, read chunk by chunk."""
    with count_queries(app) as statements:
        tracemalloc.start()
        response = client.get("/admin/orders.csv")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        rows = sum(chunk.count(b"\r\n") for chunk in response.response) - 1
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return rows, len(statements), peak


def test_ten_thousand_orders_stream_in_flat_memory_with_no_query_per_row(app, admin, user):
    many_orders(app, user, 1000)
    small = export_figures(app, admin.client)
    many_orders(app, user, 9000)
    large = export_figures(app, admin.client)
    print(f"\nexport: 1,000 orders {small[1]} queries, peak {small[2] / 1e6:.1f} MB; "
          f"10,000 orders {large[1]} queries, peak {large[2] / 1e6:.1f} MB")  # fmt: skip
    assert (small[0], large[0]) == (1000, 10000)
    assert large[1] == small[1]  # the same statements, whatever the number of orders
    assert large[2] < small[2] * 1.5  # memory does not grow with the orders
