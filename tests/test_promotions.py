"""Promotion codes and tax, as admins, customers and Stripe see them: admins make and
withdraw codes, the cart applies one or says exactly why not, checkout hands it to Stripe,
and the order keeps what Stripe charged (subtotal, discount, tax, total, code)."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from checkout_helpers import add, checkout, orders, session_url
from conftest import csrf_token
from shop.extensions import db
from shop.models import utcnow
from shop.payments import emulator
from shop.payments.emulator.models import EmulatorSession, EmulatorTaxRate
from shop.payments.emulator.store import transaction
from shop.payments.models import InstallationSecret
from shop.promotions.models import Promotion

HTMX = {"HX-Request": "true"}


def create_code(admin, htmx: bool = False, **fields):
    """Post the new code form as the admin."""
    data = {"csrf_token": csrf_token(admin.client, "/admin/promotions"), **fields}
    return admin.client.post("/admin/promotions", data=data, headers=HTMX if htmx else {})


def rows(admin) -> dict[str, dict[str, str]]:
    """The codes page's rows: code -> its data attributes."""
    html = admin.client.get("/admin/promotions").get_data(as_text=True)
    found = {}
    for match in re.finditer(r'<tr data-code="([^"]+)" ([^>]*)>', html):
        found[match[1]] = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', match[2]))
    return found


def apply(client, code: str, htmx: bool = True):
    """Type a code into the cart."""
    token = csrf_token(client)
    headers = {**HTMX, "X-CSRFToken": token} if htmx else {}
    return client.post("/cart/promotion", data={"code": code, "csrf_token": token}, headers=headers)


def session_of(app, order_id: int) -> EmulatorSession:
    """The emulator's session for an order."""
    [order] = [o for o in orders(app) if o.id == order_id]
    with app.app_context(), transaction() as s:
        row = s.query(EmulatorSession).filter_by(id=order.stripe_session_id).one()
        s.expunge(row)
        return row


def check_out_and_pay(app, client, **form):
    """Check out the cart and pay on Stripe's page; the paid order."""
    response = checkout(client)
    assert response.status_code == 200, response.get_data(as_text=True)
    session_id = session_url(response).rsplit("/", 1)[-1]
    with app.test_request_context():
        emulator.hosted.pay(session_id, form=form)
    return orders(app)[-1]


@pytest.fixture
def espresso(seeded):
    """A 250 g bag of beans (USD and EUR prices in the shipped catalogue)."""
    return seeded["BEAN-ETH-250"]


# --- admin ---


def test_an_admin_creates_a_percentage_code_listed_with_its_uses(app, admin):
    response = create_code(admin, code="spring-10", percent_off="10", max_redemptions="50")
    assert response.status_code == 303
    assert rows(admin)["SPRING-10"] == {"active": "true", "times-redeemed": "0"}
    html = admin.client.get("/admin/promotions").get_data(as_text=True)
    assert "10% off" in html and "0 of 50" in html
    with app.app_context():
        found = db.session.query(Promotion).one()
        assert found.stripe_promotion_code_id.startswith("promo_")


def test_an_amount_code_with_a_minimum_first_order_and_expiry(app, admin):
    last_day = (utcnow() + timedelta(days=30)).date().isoformat()
    response = create_code(
        admin, htmx=True, code="WELCOME5", amount_off="5.00", currency="eur",
        minimum_amount="20", first_order_only="on", expires_on=last_day,
    )  # fmt: skip
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Code WELCOME5 created: €5.00 off." in html
    assert "From €20.00; first order only" in html


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"code": "X", "percent_off": "10"}, "code", "3 to 20"),
        ({"code": "A B C", "percent_off": "10"}, "code", "3 to 20"),
        ({"code": "BOTH", "percent_off": "10", "amount_off": "5", "currency": "usd"},
         "percent_off", "not both or neither"),
        ({"code": "NONE"}, "percent_off", "not both or neither"),
        ({"code": "ZERO", "percent_off": "0"}, "percent_off", "1 to 100"),
        ({"code": "MUCH", "percent_off": "101"}, "percent_off", "1 to 100"),
        ({"code": "HALF", "percent_off": "12.5"}, "percent_off", "1 to 100"),
        ({"code": "PAST", "percent_off": "10", "expires_on": "2020-01-01"}, "expires_on", "past"),
        ({"code": "DATE", "percent_off": "10", "expires_on": "next week"}, "expires_on",
         "YYYY-MM-DD"),
        ({"code": "POUND", "amount_off": "5", "currency": "gbp"}, "currency", "USD or EUR"),
        ({"code": "NOCUR", "amount_off": "5"}, "currency", "USD or EUR"),
        ({"code": "COMMA", "amount_off": "0,50", "currency": "eur"}, "amount_off", "point"),
        ({"code": "LIMIT", "percent_off": "10", "max_redemptions": "0"}, "max_redemptions",
         "from 1"),
    ],
)  # fmt: skip
def test_bad_codes_are_refused_naming_the_field(app, admin, fields, field, words):
    response = create_code(admin, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert words in html
    assert f'name="{field}"' in html and 'aria-invalid="true"' in html
    with app.app_context():
        assert db.session.query(Promotion).count() == 0


def test_a_duplicate_code_is_refused_in_any_case(app, admin):
    assert create_code(admin, code="DUP", percent_off="10").status_code == 303
    response = create_code(admin, code="dup", percent_off="20")
    assert response.status_code == 422
    assert "The code DUP exists already." in response.get_data(as_text=True)


def test_deactivating_stops_new_uses_and_orders_keep_the_code(app, admin, client, user, espresso):
    create_code(admin, code="GONE", percent_off="10")
    add(client, espresso)
    assert apply(client, "GONE").status_code == 200
    paid = check_out_and_pay(app, client)
    assert paid.promotion_code == "GONE"
    token = csrf_token(admin.client, "/admin/promotions")
    response = admin.client.post("/admin/promotions/GONE/deactivate", data={"csrf_token": token})
    assert response.status_code == 303
    assert rows(admin)["GONE"]["active"] == "false"
    assert rows(admin)["GONE"]["times-redeemed"] == "1"
    add(client, espresso)
    refused = apply(client, "GONE")
    assert refused.status_code == 422 and 'data-reason="unknown"' in refused.get_data(as_text=True)
    assert orders(app)[0].promotion_code == "GONE" and orders(app)[0].discount_cents > 0
    missing = admin.client.post("/admin/promotions/NOPE/deactivate", data={"csrf_token": token})
    assert missing.status_code == 404


# --- the cart ---


def test_a_code_in_the_cart_shows_the_discount_and_the_new_total(
    app, admin, client, user, espresso
):
    create_code(admin, code="TEN", percent_off="10")
    add(client, espresso, 2)
    html = apply(client, "ten").get_data(as_text=True)
    subtotal = int(re.search(r'data-subtotal-cents="(\d+)"', html)[1])
    assert 'data-promotion-code="TEN"' in html
    assert f'data-discount-cents="{round(subtotal / 10)}"' in html
    assert f'data-total-cents="{subtotal - round(subtotal / 10)}"' in html
    removed = client.delete("/cart/promotion", headers={**HTMX, "X-CSRFToken": csrf_token(client)})
    page = removed.get_data(as_text=True)
    assert removed.status_code == 200 and "data-promotion-code" not in page
    assert 'name="code"' in page


def test_without_javascript_a_code_is_applied_and_removed_by_plain_forms(app, admin, client, user,
                                                                        espresso):  # fmt: skip
    create_code(admin, code="PLAIN", percent_off="10")
    add(client, espresso)
    applied = apply(client, "PLAIN", htmx=False)
    assert applied.status_code == 303 and applied.headers["Location"] == "/cart"
    assert 'data-promotion-code="PLAIN"' in client.get("/cart").get_data(as_text=True)
    data = {"remove": "on", "csrf_token": csrf_token(client)}
    assert client.post("/cart/promotion", data=data).status_code == 303
    assert "data-promotion-code" not in client.get("/cart").get_data(as_text=True)


def refusal(client, code: str) -> tuple[int, str]:
    """Apply a code: the status and the reason the cart gives."""
    response = apply(client, code)
    found = re.search(r'data-reason="([a-z_]+)">([^<]*)<', response.get_data(as_text=True))
    return response.status_code, (found[1], found[2]) if found else None


def test_each_reason_a_code_does_not_apply(app, admin, client, user, espresso, monkeypatch):
    add(client, espresso)
    assert refusal(client, "NOSUCH") == (422, ("unknown", "That code is not one of ours. "
                                                "Check its spelling."))  # fmt: skip
    create_code(admin, code="EUROS", amount_off="5", currency="eur")
    status, (reason, words) = refusal(client, "EUROS")
    assert (status, reason) == (422, "other_currency") and "for orders in EUR" in words
    create_code(admin, code="BIGONLY", percent_off="10", minimum_amount="500", currency="usd")
    status, (reason, words) = refusal(client, "BIGONLY")
    assert (status, reason) == (422, "below_minimum") and "at least $500.00" in words
    create_code(admin, code="SOON", percent_off="10", expires_on=utcnow().date().isoformat())
    later = utcnow() + timedelta(days=2)
    monkeypatch.setattr("shop.promotions.services.utcnow", lambda: later)
    assert refusal(client, "SOON")[1][0] == "expired"


def test_a_first_order_code_after_a_paid_order(app, admin, client, user, espresso):
    create_code(admin, code="FIRST", percent_off="15", first_order_only="on")
    add(client, espresso)
    assert apply(client, "FIRST").status_code == 200
    check_out_and_pay(app, client)
    add(client, espresso)
    status, (reason, words) = refusal(client, "FIRST")
    assert (status, reason) == (422, "not_first_order")
    assert "for a first order" in words


def test_a_used_up_code_is_refused_by_stripes_count(app, admin, client, user, auth, espresso):
    create_code(admin, code="ONCE", percent_off="20", max_redemptions="1")
    add(client, espresso)
    apply(client, "ONCE")
    check_out_and_pay(app, client)
    other = app.test_client()
    from conftest import AuthActions

    AuthActions(app, other).create_user("grace@example.com")
    AuthActions(app, other).login("grace@example.com")
    add(other, espresso)
    status, (reason, words) = refusal(other, "ONCE")
    assert (status, reason, words) == (422, "used_up", "The code ONCE has been used up.")


def test_an_empty_cart_takes_no_code(app, admin, client, user):
    create_code(admin, code="EMPTY", percent_off="10")
    response = apply(client, "EMPTY")
    assert response.status_code == 422
    assert "Add something to your cart before a code." in response.get_data(as_text=True)


# --- checkout and what the order keeps ---


def test_a_cart_code_goes_to_stripe_as_discounts_and_the_order_keeps_stripes_figures(
    app, admin, client, user, espresso
):
    create_code(admin, code="QUARTER", percent_off="25")
    add(client, espresso, 2)
    apply(client, "QUARTER")
    order = check_out_and_pay(app, client)
    session = session_of(app, order.id)
    assert session.discount["promotion_code"] is not None and not session.allow_promotion_codes
    assert order.subtotal_cents == session.amount_subtotal
    assert order.discount_cents == session.amount_discount == round(order.subtotal_cents / 4)
    assert order.total_cents == session.amount_total == order.subtotal_cents - order.discount_cents
    assert (order.tax_cents, order.promotion_code) == (0, "QUARTER")
    assert "data-promotion-code" not in client.get("/cart").get_data(as_text=True)  # spent
    detail = client.get(f"/orders/{order.id}", headers=HTMX).get_data(as_text=True)
    assert (
        "Discount (QUARTER)" in detail and f'data-discount-cents="{order.discount_cents}"' in detail
    )
    listing = client.get("/orders", headers=HTMX).get_data(as_text=True)
    assert f'data-total-cents="{order.total_cents}"' in listing
    page = admin.client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert f'data-discount-cents="{order.discount_cents}"' in page
    assert f'data-total-cents="{order.total_cents}"' in page and 'data-tax-cents="0"' in page


def test_without_a_cart_code_stripes_page_takes_one_and_the_order_names_it(
    app, admin, client, user, espresso
):
    create_code(admin, code="TYPED", percent_off="50")
    add(client, espresso)
    order = check_out_and_pay(app, client, promotion_code="typed")
    assert session_of(app, order.id).allow_promotion_codes
    assert order.promotion_code == "TYPED"
    assert order.discount_cents == round(order.subtotal_cents / 2)


def test_a_code_that_stopped_applying_stops_the_checkout_with_the_reason(
    app, admin, client, user, espresso
):
    create_code(admin, code="BIG", percent_off="10", minimum_amount="20", currency="usd")
    add(client, espresso, 2)
    assert apply(client, "BIG").status_code == 200
    cart = client.get("/cart").get_data(as_text=True)
    line = re.search(r"/cart/items/(\d+)", cart)[1]
    token = csrf_token(client)
    client.post(f"/cart/items/{line}", data={"quantity": "1", "csrf_token": token})
    html = client.get("/cart").get_data(as_text=True)
    subtotal = int(re.search(r'data-subtotal-cents="(\d+)"', html)[1])
    assert subtotal < 2000
    assert 'data-reason="below_minimum"' in html
    response = checkout(client)
    assert response.status_code == 409
    assert "Remove it to check out." in response.get_data(as_text=True)
    assert [o.status for o in orders(app)] == []


def test_a_hundred_percent_code_is_paid_at_nothing_without_a_card(
    app, admin, client, user, espresso
):
    create_code(admin, code="FREE", percent_off="100")
    add(client, espresso)
    apply(client, "FREE")
    response = checkout(client)
    session_id = session_url(response).rsplit("/", 1)[-1]
    with app.test_request_context():
        delivery = emulator.hosted.pay(session_id, card_number="")
    assert delivery["session"]["payment_status"] == "no_payment_required"
    [order] = orders(app)
    assert (order.status, order.total_cents, order.payment_intent_id) == ("paid", 0, None)
    assert order.discount_cents == order.subtotal_cents > 0


# --- tax ---


@pytest.fixture
def taxed_app(app_with):
    """The shop with 20% VAT included in its prices."""
    return app_with(TAX_RATE=Decimal("20"), TAX_NAME="VAT")


def signed_in(app, seeded_ids=None):
    """A customer signed in on a fresh client of `app`, with the catalogue loaded."""
    from conftest import AuthActions
    from shop.catalog import services
    from shop.catalog.models import Product

    with app.app_context():
        services.seed_products(services.read_seed_file())
        ids = {p.sku: p.id for p in db.session.scalars(db.select(Product))}
    client = app.test_client()
    AuthActions(app, client).create_user()
    assert AuthActions(app, client).login().status_code == 302
    return client, ids


@pytest.mark.parametrize("inclusive", [True, False], ids=["inclusive", "exclusive"])
def test_tax_is_on_every_line_and_the_order_keeps_it(app_with, inclusive):
    app = app_with(TAX_RATE=Decimal("20"), TAX_INCLUSIVE=inclusive)
    client, ids = signed_in(app)
    product = next(iter(ids.values()))
    add(client, product, 3)
    cart = client.get("/cart").get_data(as_text=True)
    assert ("Prices include VAT 20%." if inclusive else "VAT 20% is added at checkout.") in cart
    order = check_out_and_pay(app, client)
    subtotal = order.subtotal_cents
    if inclusive:
        expected_tax = subtotal - round(Decimal(subtotal) / Decimal("1.2"))
        assert order.total_cents == subtotal
    else:
        expected_tax = round(Decimal(subtotal) * Decimal("0.2"))
        assert order.total_cents == subtotal + expected_tax
    assert order.tax_cents == expected_tax and order.tax_included is inclusive
    detail = client.get(f"/orders/{order.id}", headers=HTMX).get_data(as_text=True)
    assert ("VAT (included)" if inclusive else "VAT") in detail


def test_the_tax_rate_is_made_once_per_installation(taxed_app, app_with):
    client, ids = signed_in(taxed_app)
    product = next(iter(ids.values()))
    for _ in range(2):
        add(client, product)
        check_out_and_pay(taxed_app, client)
    second = app_with(TAX_RATE=Decimal("20"), TAX_NAME="VAT")  # another process's app
    with second.app_context():
        from shop.payments import tax_rate_id

        again = tax_rate_id()
    with taxed_app.app_context():
        with transaction() as s:
            rates = s.query(EmulatorTaxRate).all()
        assert [rate.id for rate in rates] == [again]
        names = [row.name for row in db.session.query(InstallationSecret)]
        assert sum(name.startswith("tax_rate:") for name in names) == 1


# --- settings, the request to Stripe, the books ---


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"TAX_RATE": "twenty"}, "TAX_RATE must be a percentage"),
        ({"TAX_RATE": "101"}, "TAX_RATE must be a percentage"),
        ({"TAX_RATE": "-1"}, "TAX_RATE must be a percentage"),
        ({"TAX_RATE": "20", "TAX_INCLUSIVE": "yes"}, "TAX_INCLUSIVE must be 1 or 0"),
        ({"TAX_NAME": "x" * 51}, "TAX_NAME must be at most 50"),
        ({"STRIPE_AUTOMATIC_TAX": "1"}, "needs STRIPE_SECRET_KEY"),
        ({"STRIPE_AUTOMATIC_TAX": "1", "STRIPE_SECRET_KEY": "sk_test_x",
          "STRIPE_WEBHOOK_SECRET": "whsec_x", "TAX_RATE": "20"}, "not both"),
    ],
)  # fmt: skip
def test_tax_settings_that_cannot_be_used_stop_start_up(tmp_path, env, words):
    from shop.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=words):
        load_config(env, str(tmp_path), {"TESTING": True, "SECRET_KEY": "k"})


def test_the_session_asks_for_the_cart_code_or_lets_one_be_typed_and_names_the_tax():
    from datetime import UTC, datetime

    from shop.payments import CheckoutLine, CheckoutRequest
    from shop.payments.translate import checkout_params

    request = CheckoutRequest(
        order_id=1, customer_id=2, customer_email="a@example.com", currency="eur",
        lines=(CheckoutLine("Beans", 1350, 2),), success_url="https://s/ok",
        cancel_url="https://s/no", expires_at=datetime(2026, 12, 7, tzinfo=UTC),
    )  # fmt: skip
    plain = checkout_params(request)
    assert plain["allow_promotion_codes"] is True and "discounts" not in plain
    assert "tax_rates" not in plain["line_items"][0] and "automatic_tax" not in plain
    from dataclasses import replace

    coded = checkout_params(replace(request, promotion_code_id="promo_1", tax_rate_id="txr_1"))
    assert coded["discounts"] == [{"promotion_code": "promo_1"}]
    assert "allow_promotion_codes" not in coded
    assert coded["line_items"][0]["tax_rates"] == ["txr_1"]
    automatic = checkout_params(replace(request, automatic_tax=True))
    assert automatic["automatic_tax"] == {"enabled": True}


def test_the_export_and_the_dashboard_count_what_stripe_charged(app, admin, client, user, espresso):
    create_code(admin, code="HALF", percent_off="50")
    add(client, espresso, 2)
    apply(client, "HALF")
    order = check_out_and_pay(app, client)
    csv_text = admin.client.get("/admin/orders.csv").get_data(as_text=True)
    header, row = csv_text.lstrip("\ufeff").splitlines()[:2]
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert values["subtotal"] == f"{order.subtotal_cents / 100:.2f}"
    assert values["discount"] == f"{order.discount_cents / 100:.2f}"
    assert values["total"] == f"{order.total_cents / 100:.2f}" and values["code"] == "HALF"
    dashboard = admin.client.get("/admin").get_data(as_text=True)
    assert f'data-revenue-cents="{order.total_cents}"' in dashboard  # net of the discount
