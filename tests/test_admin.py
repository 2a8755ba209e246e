"""The admin area's pages: the dashboard's figures, the orders list (filters, search,
pages, totals, a fixed number of queries) and one order in full, for admins only."""

import re
from datetime import timedelta

import pytest
from markupsafe import escape

from admin_helpers import paid, set_order, ship
from checkout_helpers import make_orders
from conftest import count_queries
from shop.admin import services
from shop.admin.forms import OrderFilter
from shop.models import utcnow
from shop.payments.links import dashboard_url
from shop.templating import keep_units

HTMX = {"HX-Request": "true"}


def rows(html: str) -> list[int]:
    """The order ids of the list's rows, in the order shown."""
    return [int(n) for n in re.findall(r'<tr data-order-id="(\d+)"', html)]


def listing(admin, **query) -> str:
    """The orders list's results fragment for this query string (as htmx asks for it)."""
    response = admin.client.get("/admin/orders", query_string=query, headers=HTMX)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


# --- access and the header -------------------------------------------------------------------


def test_a_visitor_logs_in_and_comes_back_to_the_admin_page(app, auth, client):
    auth.create_admin()
    response = client.get("/admin/orders?status=paid")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/orders?status%3Dpaid"
    response = auth.login("boss@example.com", next="/admin/orders?status=paid")
    assert response.headers["Location"] == "/admin/orders?status=paid"
    assert client.get("/admin/orders?status=paid").status_code == 200


def without_csrf_tokens(html: str) -> str:
    """The page with its CSRF tokens blanked: a token carries the second it was signed,
    so two renderings of the same page differ there when a second boundary falls between."""
    return re.sub(r'"[\w-]+\.[\w-]+\.[\w-]+"', '"TOKEN"', html)


def test_a_customer_gets_the_404_of_a_page_that_does_not_exist(client, user):
    made_up = without_csrf_tokens(client.get("/no-such-page").get_data(as_text=True))
    assert '"TOKEN"' in made_up
    for path in ("/admin", "/admin/orders", "/admin/orders/1"):
        response = client.get(path)
        assert response.status_code == 404
        assert without_csrf_tokens(response.get_data(as_text=True)) == made_up


def test_the_admin_link_is_in_the_header_for_admins_only(client, auth, admin):
    assert 'href="/admin"' in admin.client.get("/").get_data(as_text=True)
    assert 'href="/admin"' not in client.get("/").get_data(as_text=True)
    auth.create_user()
    auth.login()
    assert 'href="/admin"' not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin", "/admin/orders"])
def test_admin_pages_are_storefront_pages(admin, path):
    html = admin.client.get(path).get_data(as_text=True)
    assert 'id="cart-count"' in html and 'id="cart-dialog"' in html and 'id="orders-dialog"' in html
    assert 'aria-current="page"' in html  # the admin menu says where you are


# --- the dashboard ---------------------------------------------------------------------------


@pytest.fixture
def history(app, auth, user, seeded):
    """Orders across currencies, days and states; what the dashboard should make of them."""
    mug, now = seeded["MUG-STONE"], utcnow()
    other = auth.create_user("grace@example.com")
    make_orders(app, user, mug, 1, total_cents=1000)
    make_orders(
        app, user, mug, 1, status="partially_refunded", total_cents=2500, refunded_cents=500
    )
    make_orders(
        app, user, mug, 1, currency="eur", total_cents=4000, paid_at=now - timedelta(days=3)
    )
    make_orders(
        app, other, mug, 1, currency="gbp", total_cents=700, paid_at=now - timedelta(days=1)
    )
    make_orders(app, user, mug, 1, total_cents=9999, paid_at=now - timedelta(days=10))
    make_orders(app, user, mug, 1, status="refunded", total_cents=300, refunded_cents=300)
    shipped = make_orders(app, user, mug, 1, total_cents=100)[0]
    set_order(app, shipped, fulfilment="shipped", shipped_at=now)
    for customer in (user, other):
        make_orders(app, customer, mug, 1, status="pending", total_cents=5000)
    make_orders(app, user, mug, 2, status="expired", total_cents=5000)
    return now


def test_the_dashboard_counts_paid_orders_and_revenue_per_currency(app, history):
    with app.app_context():
        figures = services.dashboard(history)
    takings = {
        period: [(t.currency, t.orders, t.revenue_cents) for t in found]
        for period, found in figures.takings.items()
    }
    # Today: 1000 + (2500 - 500) + (300 - 300) + 100, in four orders; a refund counts against.
    assert takings["today"] == [("usd", 4, 3100)]
    assert takings["week"] == [("eur", 1, 4000), ("gbp", 1, 700), ("usd", 4, 3100)]
    # To ship: every paid or partly refunded order but the shipped one, whenever paid.
    assert (figures.pending, figures.to_ship) == (2, 5)


def test_the_dashboard_page_links_each_figure_to_its_orders(admin, history):
    html = admin.client.get("/admin").get_data(as_text=True)
    assert 'data-currency="eur" data-orders="1" data-revenue-cents="4000"' in html
    assert "$31.00" in html and "€40.00" in html
    for link in ("period=today", "period=week", "status=pending", "fulfilment=unfulfilled"):
        assert f'href="/admin/orders?{link}"' in html


def test_each_dashboard_link_lists_the_orders_it_counts(admin, history):
    assert len(rows(listing(admin, period="today"))) == 4
    assert len(rows(listing(admin, period="week"))) == 6
    assert len(rows(listing(admin, status="pending"))) == 2
    assert len(rows(listing(admin, fulfilment="unfulfilled"))) == 5


def test_an_empty_shop_has_an_empty_dashboard(admin):
    html = admin.client.get("/admin").get_data(as_text=True)
    assert html.count("No paid orders.") == 2


def test_the_week_starts_six_days_before_today_at_midnight_utc():
    starts = services.period_starts(utcnow().replace(hour=15, minute=7))
    assert (starts["today"].hour, starts["today"].minute) == (0, 0)
    assert starts["today"] - starts["week"] == timedelta(days=6)


# --- the orders list -------------------------------------------------------------------------


def test_orders_are_listed_newest_first_with_their_attributes(app, admin, user, seeded):
    ids = make_orders(app, user, seeded["MUG-STONE"], 3)
    html = listing(admin)
    assert rows(html) == list(reversed(ids))
    assert f'data-order-id="{ids[0]}" data-status="paid" data-fulfilment="unfulfilled"' in html
    assert "ada@example.com" in html


def test_the_list_filters_by_status_and_shipping(app, admin, user, seeded):
    mug = seeded["MUG-STONE"]
    [paid_one] = make_orders(app, user, mug, 1)
    [expired] = make_orders(app, user, mug, 1, status="expired")
    [shipped] = make_orders(app, user, mug, 1)
    set_order(app, shipped, fulfilment="shipped", shipped_at=utcnow())
    assert rows(listing(admin, status="expired")) == [expired]
    assert rows(listing(admin, status="paid")) == [shipped, paid_one]
    assert rows(listing(admin, fulfilment="unfulfilled")) == [paid_one]
    assert rows(listing(admin, fulfilment="shipped")) == [shipped]
    assert rows(listing(admin, status="refunded")) == []


def test_search_finds_an_order_by_number_or_by_customer_email(app, auth, admin, user, seeded):
    mug = seeded["MUG-STONE"]
    grace = auth.create_user("grace.hopper@example.com")
    ada_orders = make_orders(app, user, mug, 2)
    [grace_order] = make_orders(app, grace, mug, 1)
    assert rows(listing(admin, q="Grace.Hopper@")) == [grace_order]  # any part, any case
    assert rows(listing(admin, q=" ada@example.com ")) == list(reversed(ada_orders))
    assert rows(listing(admin, q=str(ada_orders[0]))) == [ada_orders[0]]
    assert rows(listing(admin, q=f"#{grace_order}")) == [grace_order]
    assert rows(listing(admin, q="%")) == []  # wildcards are searched as text
    assert rows(listing(admin, q="99999999999")) == []  # past any id: no error either
    assert "No orders match." in listing(admin, q="nobody@")


def test_the_list_shows_fifty_a_page_and_totals_for_all_pages(app, admin, user, seeded):
    mug = seeded["MUG-STONE"]
    make_orders(app, user, mug, 110, total_cents=1000, refunded_cents=100)
    make_orders(app, user, mug, 10, currency="eur", total_cents=250)
    first, last = listing(admin), listing(admin, page=3)
    assert len(rows(first)) == 50 and len(rows(last)) == 20
    assert set(rows(first)).isdisjoint(rows(listing(admin, page=2)))
    for html in (first, last):
        assert "120 orders" in html
        assert 'data-currency="usd" data-orders="110" data-total-cents="110000"' in html
        assert 'data-refunded-cents="11000"' in html
        assert 'data-currency="eur" data-orders="10" data-total-cents="2500"' in html
    assert 'href="/admin/orders?page=2"' in first and 'rel="prev"' not in first
    assert "Page 3 of 3" in last and 'href="/admin/orders?page=2"' in last
    assert "There is no page 4" in listing(admin, page=4)


def test_page_links_keep_the_filter(app, admin, user, seeded):
    make_orders(app, user, seeded["MUG-STONE"], 51, status="expired")
    html = listing(admin, status="expired", q="ada")
    assert 'href="/admin/orders?status=expired&amp;q=ada&amp;page=2"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "lost"}, "“lost” is not a status"),
        ({"fulfilment": "sent"}, "is not a shipping state"),
        ({"period": "year"}, "is not a period"),
        ({"page": "0"}, "The page must be a whole number"),
        ({"page": "2.5"}, "The page must be a whole number"),
        ({"page": "1e3"}, "The page must be a whole number"),
        ({"page": "abc"}, "The page must be a whole number"),
        ({"q": "x" * 255}, "Search for at most 254 characters."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_filter_the_list_does_not_know_is_a_clear_400(admin, query, message, htmx):
    response = admin.client.get("/admin/orders", query_string=query, headers=HTMX if htmx else {})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_the_list_answers_htmx_with_its_results_and_history_with_the_page(admin):
    fragment = admin.client.get("/admin/orders?q=ada&status=&period=&page=1", headers=HTMX)
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="admin-results"') and "<html" not in html
    assert "HX-Request" in fragment.headers["Vary"]
    assert fragment.headers["HX-Push-Url"] == "/admin/orders?q=ada"  # without the empty fields
    restore = {**HTMX, "HX-History-Restore-Request": "true"}
    for headers in ({}, restore):
        page = admin.client.get("/admin/orders?q=ada", headers=headers).get_data(as_text=True)
        assert "<html" in page and 'value="ada"' in page


def test_the_list_takes_two_queries_for_1_or_500_orders(app, admin, user, seeded):
    mug = seeded["MUG-STONE"]
    make_orders(app, user, mug, 1)
    with count_queries(app) as one:
        assert len(rows(listing(admin))) == 1
    make_orders(app, user, mug, 499)
    with count_queries(app) as many:
        assert len(rows(listing(admin))) == 50
    with count_queries(app) as page:
        assert "500 orders" in admin.client.get("/admin/orders?page=3").get_data(as_text=True)
    # The signed-in admin, the two queries of the list; the whole page adds the cart badge.
    assert len(one) == len(many) == 3
    assert len(page) == 4


def test_the_dashboard_takes_the_same_queries_for_any_number_of_orders(app, admin, user, seeded):
    make_orders(app, user, seeded["MUG-STONE"], 1)
    with count_queries(app) as one:
        admin.client.get("/admin")
    make_orders(app, user, seeded["MUG-STONE"], 300)
    with count_queries(app) as many:
        admin.client.get("/admin")
    assert len(one) == len(many) == 4  # the admin, two figures queries, the cart badge


# --- one order -------------------------------------------------------------------------------


def test_the_order_page_shows_everything_about_the_order(app, admin, order):
    order = paid(app, order)
    set_order(app, order.id, refunded_cents=250, status="partially_refunded")
    html = admin.client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert (
        f'data-order-id="{order.id}" data-status="partially_refunded"\n'
        '         data-fulfilment="unfulfilled" data-refunded-cents="250"'
    ) in html
    assert "ada@example.com" in html and 'href="/admin/orders?q=ada@example.com"' in html
    for item in order.items:
        assert str(escape(keep_units(item.name))) in html
    assert "$47.00" in html and "−$2.50" in html and "$44.50" in html
    assert 'id="refunds"' in html and "$2.50 refunded." in html
    assert 'data-kind="created" data-source="checkout"' in html
    assert 'data-kind="paid" data-source="webhook"' in html
    assert "Mark shipped" in html  # a partly refunded order can ship


def test_a_pending_order_has_no_ship_form(admin, order):
    html = admin.client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert "Mark shipped" not in html and "this one is awaiting payment" in html
    assert 'data-refunded-cents="0"' in html


def test_an_unknown_order_is_404(admin):
    assert admin.client.get("/admin/orders/424242").status_code == 404


def test_stripe_ids_link_to_the_emulator_page_without_a_key(app, admin, order):
    order = paid(app, order)
    html = admin.client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    page = f'href="/emulator/checkout/{order.stripe_session_id}"'
    assert html.count(page) == 2  # the session, and the PaymentIntent paid on it
    assert f">{order.payment_intent_id}</a>" in html


@pytest.mark.parametrize(
    ("key", "root"),
    [
        ("sk_test_123", "https://dashboard.stripe.com/test"),
        ("sk_live_123", "https://dashboard.stripe.com"),
    ],
)
def test_stripe_ids_link_to_the_dashboard_with_a_real_key(app, admin, order, key, root):
    order = paid(app, order)
    app.config["STRIPE_SECRET_KEY"] = key  # only the links read it: nothing calls Stripe here
    html = admin.client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert f'href="{root}/checkout/sessions/{order.stripe_session_id}"' in html
    assert f'href="{root}/payments/{order.payment_intent_id}"' in html


@pytest.mark.parametrize(
    ("object_id", "key", "url"),
    [
        (
            "cs_test_a1",
            "rk_test_x",
            "https://dashboard.stripe.com/test/checkout/sessions/cs_test_a1",
        ),
        ("pi_3Nx", "rk_live_x", "https://dashboard.stripe.com/payments/pi_3Nx"),
        ("ch_1", "sk_test_x", None),
        (None, "sk_test_x", None),
        ("pi_a/../b", "sk_test_x", "https://dashboard.stripe.com/test/payments/pi_a%2F..%2Fb"),
    ],
)
def test_dashboard_urls(object_id, key, url):
    assert dashboard_url(object_id, key) == url


# --- hostile text ----------------------------------------------------------------------------

HOSTILE_EMAIL = "<svg/onload=alert(3)>@example.com"
HOSTILE_CARRIER = '<img src=x onerror="alert(1)">'


def test_customer_emails_and_carriers_are_shown_as_text(app, auth, admin, seeded):
    customer = auth.create_user(HOSTILE_EMAIL)
    [order_id] = make_orders(app, customer, seeded["MUG-STONE"], 1)
    assert ship(admin.client, order_id, carrier=HOSTILE_CARRIER).status_code == 303
    pages = [
        listing(admin, q="<svg"),
        admin.client.get("/admin/orders").get_data(as_text=True),
        admin.client.get(f"/admin/orders/{order_id}").get_data(as_text=True),
    ]
    for html in pages:
        assert str(escape(HOSTILE_EMAIL)) in html
        assert "<svg/onload" not in html and "<img src=x" not in html
    assert str(escape(HOSTILE_CARRIER)) in pages[2]


def test_the_filter_echoes_a_hostile_search_as_text(admin):
    html = admin.client.get("/admin/orders", query_string={"q": '"><svg onload=alert(1)>'})
    text = html.get_data(as_text=True)
    assert "<svg onload" not in text and "&#34;&gt;&lt;svg onload=alert(1)&gt;" in text


def test_the_order_filter_reads_order_numbers():
    assert OrderFilter(q="#12").order_number == 12
    assert OrderFilter(q="12").order_number == 12
    assert OrderFilter(q="ada12").order_number is None
    assert OrderFilter(q="99999999999").order_number is None


def test_an_order_paid_after_its_stock_was_released_needs_attention(app, admin, order):
    from checkout_helpers import deliver, fixture_event

    stripe = app.test_client()
    deliver(stripe, app, fixture_event("checkout.session.expired.json", order, "evt_gone"))
    deliver(stripe, app, fixture_event("checkout.session.completed.json", order, "evt_late"))
    client = admin.client
    dashboard = client.get("/admin").get_data(as_text=True)
    figure = re.search(r'data-figure="attention".*?</section>', dashboard, re.S).group(0)
    assert '<strong class="figure-value">1</strong>' in figure
    listed = client.get("/admin/orders?attention=1").get_data(as_text=True)
    assert f'data-order-id="{order.id}"' in listed and "Needs attention" in listed
    page = client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert "Needs attention: Paid after its stock hold was released" in page
    assert client.get("/admin/orders?attention=2").status_code == 400
