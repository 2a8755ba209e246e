"""Checkout Sessions as Stripe documents them (API 2026-09-30 and later), through the SDK:
line-item pages, currencies, ui_mode, list filters, expanding the PaymentIntent."""

import time

import pytest
import stripe

from conftest import serve
from shop.payments import emulator
from shop.payments.emulator import currencies
from stripe_helpers import line, remote_client, session_params, stripe_client


@pytest.fixture
def ctx(app):
    """An app context, as a view or a command has."""
    with app.app_context():
        yield app


def create(key: str, **params):
    """Create a session through the shop's SDK client."""
    return stripe_client().v1.checkout.sessions.create(
        params=session_params(**params), options={"idempotency_key": key}
    )


def twelve_lines() -> list[dict]:
    """Twelve line items, `Beans 0` to `Beans 11`."""
    return [line(unit_amount=str(100 + n), name=f"Beans {n}") for n in range(12)]


# --- A1: line items paginate as Stripe's do ---


def test_expanded_line_items_are_the_first_ten_with_a_truthful_has_more(ctx):
    session = stripe_client().v1.checkout.sessions.create(
        params={**session_params(line_items=twelve_lines()), "expand": ["line_items"]}
    )
    items = session.line_items
    assert [i.description for i in items.data] == [f"Beans {n}" for n in range(10)]
    assert items.has_more is True
    assert items.url == f"/v1/checkout/sessions/{session.id}/line_items"
    two = create("two-lines").id
    retrieved = stripe_client().v1.checkout.sessions.retrieve(
        two, params={"expand": ["line_items"]}
    )
    assert retrieved.line_items.has_more is False and len(retrieved.line_items.data) == 2


def test_line_items_page_with_limit_and_both_cursors(ctx):
    session_id = create("twelve", line_items=twelve_lines()).id
    pages = stripe_client().v1.checkout.sessions.line_items
    first = pages.list(session_id, params={"limit": 5})
    assert [i.description for i in first.data] == [f"Beans {n}" for n in range(5)]
    assert first.has_more is True
    after = pages.list(session_id, params={"limit": 5, "starting_after": first.data[-1].id})
    assert [i.description for i in after.data] == [f"Beans {n}" for n in range(5, 10)]
    last = pages.list(session_id, params={"starting_after": after.data[-1].id})
    assert [i.description for i in last.data] == ["Beans 10", "Beans 11"]
    assert last.has_more is False
    before = pages.list(session_id, params={"limit": 3, "ending_before": after.data[0].id})
    assert [i.description for i in before.data] == ["Beans 2", "Beans 3", "Beans 4"]
    assert before.has_more is True
    every = [i.description for i in pages.list(session_id, params={"limit": 2}).auto_paging_iter()]
    assert every == [f"Beans {n}" for n in range(12)]
    assert len(pages.list(session_id).data) == 10  # the default limit


@pytest.mark.parametrize(
    ("params", "param"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"starting_after": "li_nope"},
     "starting_after"), ({"color": "red"}, "color")],
)  # fmt: skip
def test_bad_line_item_pages_are_refused(ctx, params, param):
    session_id = create("bad-pages").id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client().v1.checkout.sessions.line_items.list(session_id, params=params)
    assert caught.value.param == param


def test_line_items_page_over_http_too(app):
    with app.app_context():
        session_id = create("http-lines", line_items=twelve_lines()).id
    with serve(app) as url:
        remote = remote_client(url)
        page = remote.v1.checkout.sessions.line_items.list(session_id, params={"limit": 11})
        assert len(page.data) == 11 and page.has_more is True
        expanded = remote.v1.checkout.sessions.retrieve(
            session_id, params={"expand": ["line_items"]}
        )
        assert len(expanded.line_items.data) == 10 and expanded.line_items.has_more is True


# --- A2: unknown currencies are refused ---


def test_an_unknown_currency_gets_stripes_invalid_currency_error(ctx):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create("xyz", line_items=[line(currency="xyz")])
    error = caught.value
    assert (error.http_status, error.param) == (400, "line_items[0][price_data][currency]")
    assert error.error.type == "invalid_request_error"
    assert error.user_message.startswith(
        "Invalid currency: xyz. Stripe currently supports these currencies: usd, aed, afn,"
    )
    assert emulator.count_sessions() == 0


def test_supported_currencies_are_iso_codes_and_case_is_ignored(ctx):
    assert all(len(code) == 3 and code.islower() for code in currencies.SUPPORTED)
    assert {"usd", "eur", "gbp", "jpy", "sek"} <= set(currencies.SUPPORTED)
    assert create("upper", line_items=[line(currency="EUR")]).currency == "eur"


# --- A3: ui_mode ---


def test_ui_mode_is_hosted_page_by_default_and_when_asked(ctx):
    assert create("default-ui").ui_mode == "hosted_page"
    assert create("hosted-ui", ui_mode="hosted_page").ui_mode == "hosted_page"


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("embedded_page", "serves only ui_mode=hosted_page"),
        ("elements", "serves only ui_mode=hosted_page"),
        ("hosted", "Invalid ui_mode: must be one of hosted_page, embedded_page, elements, or form"),
    ],
)
def test_other_ui_modes_are_refused_clearly(ctx, mode, message):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(f"ui-{mode}", ui_mode=mode)
    assert caught.value.param == "ui_mode" and message in caught.value.user_message
    assert emulator.count_sessions() == 0


# --- A4: documented parameters ---


def test_sessions_list_filters_by_email_payment_intent_created_and_status(ctx, monkeypatch):
    sessions = stripe_client().v1.checkout.sessions
    early = create("ada", customer_email="ada@example.com").id
    later_time = time.time() + 100
    monkeypatch.setattr(time, "time", lambda: later_time)
    paid = create("bob", customer_email="bob@example.com").id
    emulator.pay(paid)
    intent = sessions.retrieve(paid).payment_intent

    def ids(**params):
        """The ids the list answers with."""
        return [s.id for s in sessions.list(params=params).data]

    assert ids(customer_details={"email": "ada@example.com"}) == [early]
    assert ids(customer_details={"email": "BOB@example.com"}) == [paid]
    assert ids(payment_intent=intent) == [paid]
    created = sessions.retrieve(paid).created
    assert ids(created={"gte": created}) == [paid]
    assert ids(created={"lt": created}) == [early]
    assert ids(created={"gt": created - 100, "lte": created}) == [paid]
    assert ids(created=created) == [paid]
    assert ids(status="complete") == [paid] and ids(status="open") == [early]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sessions.list(params={"created": {"after": 1}})
    assert caught.value.param == "created[after]"


def test_expand_payment_intent_on_retrieve_create_expire_and_list(ctx):
    sessions = stripe_client().v1.checkout.sessions
    paid = create("to-pay").id
    emulator.pay(paid)
    expanded = sessions.retrieve(paid, params={"expand": ["payment_intent"]}).payment_intent
    assert expanded.object == "payment_intent" and expanded.status == "succeeded"
    assert expanded.amount == 5900 and expanded.metadata.to_dict() == {"order_id": "1001"}
    listed = sessions.list(params={"expand": ["data.payment_intent"], "status": "complete"})
    assert listed.data[0].payment_intent.id == expanded.id
    fresh = sessions.create(params={**session_params(), "expand": ["payment_intent"]})
    assert fresh.payment_intent is None  # no attempt yet, as at Stripe
    expired = sessions.expire(fresh.id, params={"expand": ["payment_intent"]})
    assert expired.status == "expired" and expired.payment_intent is None
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sessions.retrieve(paid, params={"expand": ["customer"]})
    assert caught.value.param == "expand[0]"


def test_product_images_and_description_are_accepted_and_checked(ctx):
    images = [f"https://cdn.example/beans-{n}.jpg" for n in range(8)]
    item = line()
    item["price_data"]["product_data"].update(images=images, description="Washed, light roast")
    assert create("images", line_items=[item]).status == "open"
    item["price_data"]["product_data"]["images"] = [*images, "https://cdn.example/9.jpg"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create("nine-images", line_items=[item])
    assert caught.value.param == "line_items[0][price_data][product_data][images]"
    item["price_data"]["product_data"]["images"] = ["not a url"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create("bad-image", line_items=[item])
    assert caught.value.param == "line_items[0][price_data][product_data][images][0]"
