"""The emulator's coupons, promotion codes and tax rates, through the SDK as the shop calls
Stripe: Stripe's shapes (checked by the schema plugin), its errors, its arithmetic (worked
examples from Stripe's tax-rate and discount docs), and a limited code that is never
redeemed past its limit."""

import time
from decimal import Decimal

import pytest
import stripe
from emulator_schema import stripe_schema  # noqa: F401

from shop.payments.emulator import hosted, pricing
from stripe_helpers import line, session_params, stripe_client


@pytest.fixture
def ctx(app):
    """An app context, as a view or a command has."""
    with app.app_context():
        yield app


def coupon(**params):
    """A coupon made through the SDK."""
    return stripe_client().v1.coupons.create(params={"duration": "once", **params})


def promo(coupon_id: str, code: str, **params):
    """A promotion code for a coupon, made through the SDK."""
    body = {"promotion": {"type": "coupon", "coupon": coupon_id}, "code": code, **params}
    return stripe_client().v1.promotion_codes.create(params=body)


def tax_rate(percentage: str, inclusive: bool, name: str = "VAT"):
    """A tax rate made through the SDK."""
    return stripe_client().v1.tax_rates.create(
        params={"display_name": name, "percentage": percentage, "inclusive": inclusive}
    )


def session(key: str, **params):
    """A Checkout Session made through the SDK."""
    return stripe_client().v1.checkout.sessions.create(
        params=session_params(**params), options={"idempotency_key": key}
    )


def taxed(unit_amount: str, rate_id: str, quantity="1", currency="eur") -> dict:
    """One line carrying a tax rate."""
    return {**line(unit_amount, quantity, currency=currency), "tax_rates": [rate_id]}


# --- arithmetic: Stripe's worked examples ---


@pytest.mark.parametrize(
    ("amount", "percentage", "inclusive", "tax"),
    [
        (1000, "20", True, 167),  # €10.00 incl. 20% VAT: 10.00 - 10.00 / 1.2 = 1.67
        (1000, "20", False, 200),  # €10.00 plus 20%: 2.00
        (99, "19", False, 19),  # 0.99 × 19% = 0.1881 -> 0.19
        (99, "19", True, 16),  # 0.99 - 0.99 / 1.19 = 0.158 -> 0.16
        (1999, "7.7", True, 143),  # 19.99 - 19.99 / 1.077 = 1.429 -> 1.43
        (250, "10", False, 25),  # a half rounds away from zero: 25.0
        (5, "10", False, 1),  # 0.5 -> 1, never to even
    ],
)
def test_tax_per_line_rounds_as_stripe_does(amount, percentage, inclusive, tax):
    rate = {"percentage": percentage, "inclusive": inclusive}
    assert pricing.line_tax(amount, rate) == tax


def test_a_discount_is_shared_over_the_lines_to_the_last_cent():
    assert pricing.split(100, [1, 1, 1]) == [34, 33, 33]
    assert pricing.split(600, [1000, 5000]) == [100, 500]
    assert sum(pricing.split(997, [333, 333, 334, 1])) == 997
    assert pricing.discount_of(999, {"percent_off": "10", "amount_off": None}) == 100
    assert pricing.discount_of(500, {"percent_off": None, "amount_off": 900}) == 500


def test_stripes_own_worked_examples(ctx):
    # support.stripe.com, "Rounding rules for Stripe fees": $0.43 and $4.84 at 15% carry
    # $0.0645 -> $0.06 and $0.7265 -> $0.73 of tax, rounded per line: $0.79 on $5.27, $6.06.
    rate = tax_rate("15", inclusive=False)
    made = session("worked-1", line_items=[taxed("43", rate.id, currency="usd"),
                                          taxed("484", rate.id, currency="usd")])  # fmt: skip
    assert (made.amount_subtotal, made.total_details.amount_tax, made.amount_total) == (
        527, 79, 606,
    )  # fmt: skip
    # support.stripe.com, "Inclusive and exclusive tax options": €600 with 10% inclusive
    # still totals €600; exclusive, €660.
    inclusive, exclusive = tax_rate("10", inclusive=True), tax_rate("10", inclusive=False)
    made_in = session("worked-2", line_items=[taxed("60000", inclusive.id)])
    made_ex = session("worked-3", line_items=[taxed("60000", exclusive.id)])
    assert made_in.amount_total == 60000 and made_in.total_details.amount_tax == 5455
    assert made_ex.amount_total == 66000 and made_ex.total_details.amount_tax == 6000


def test_inclusive_tax_on_a_discounted_session(ctx):
    rate = tax_rate("20", inclusive=True)
    ten = coupon(percent_off=10)
    code = promo(ten.id, "TENOFF")
    made = session(
        "incl-1",
        currency=None,
        line_items=[taxed("1000", rate.id), taxed("2500", rate.id, "2")],
        discounts=[{"promotion_code": code.id}],
    )
    assert made.amount_subtotal == 6000
    assert made.total_details.amount_discount == 600
    assert made.total_details.amount_tax == 150 + 750  # on 9.00 and 45.00, inside them
    assert made.amount_total == 5400
    assert made.discounts[0].promotion_code == code.id
    items = stripe_client().v1.checkout.sessions.line_items.list(made.id).data
    assert [(i.amount_discount, i.amount_tax, i.amount_total) for i in items] == [
        (100, 150, 900),
        (500, 750, 4500),
    ]
    assert items[0].taxes[0].rate.id == rate.id and items[0].taxes[0].taxable_amount == 750


def test_exclusive_tax_is_added_to_the_total(ctx):
    rate = tax_rate("20", inclusive=False)
    made = session("excl-1", line_items=[taxed("1000", rate.id, currency="usd")])
    assert (made.amount_subtotal, made.total_details.amount_tax, made.amount_total) == (
        1000,
        200,
        1200,
    )
    assert made.allow_promotion_codes is None


def test_an_amount_off_never_takes_more_than_the_items(ctx):
    big = coupon(amount_off=5000, currency="usd")
    code = promo(big.id, "BIG")
    made = session("big-1", line_items=[line("1250")], discounts=[{"promotion_code": code.id}])
    assert (made.total_details.amount_discount, made.amount_total) == (1250, 0)


# --- Stripe's refusals ---


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "percent_off"),
        ({"percent_off": 10, "amount_off": 100, "currency": "usd"}, "percent_off"),
        ({"percent_off": "101"}, "percent_off"),
        ({"percent_off": "0"}, "percent_off"),
        ({"amount_off": 100}, "currency"),
        ({"amount_off": 100, "currency": "xyz"}, "currency"),
        ({"percent_off": 10, "redeem_by": 1}, "redeem_by"),
    ],
)
def test_bad_coupons_are_refused_naming_the_parameter(ctx, params, param):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        coupon(**params)
    assert refused.value.param == param


def test_an_active_code_cannot_be_made_twice_in_any_case(ctx):
    ten = coupon(percent_off=10)
    promo(ten.id, "SPRING")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        promo(ten.id, "spring")
    assert refused.value.param == "code"


def test_discounts_and_allow_promotion_codes_are_refused_together(ctx):
    code = promo(coupon(percent_off=10).id, "BOTH")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        session("both-1", discounts=[{"promotion_code": code.id}], allow_promotion_codes=True)
    assert refused.value.param == "discounts"


@pytest.mark.parametrize(
    ("coupon_params", "code_params", "words"),
    [
        ({"percent_off": 10}, {"active": False}, "inactive"),
        ({"amount_off": 500, "currency": "eur"}, {}, "EUR payments only"),
        (
            {"percent_off": 10},
            {"restrictions": {"minimum_amount": 99999, "minimum_amount_currency": "usd"}},
            "at least $999.99",
        ),
    ],
)
def test_a_code_that_does_not_apply_is_refused_at_creation(ctx, coupon_params, code_params, words):
    code = promo(coupon(**coupon_params).id, "NOPE", **code_params)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        session("nope-1", discounts=[{"promotion_code": code.id}])
    assert refused.value.param == "discounts[0][promotion_code]"
    assert words in refused.value.user_message


def test_a_first_order_code_is_refused_after_a_paid_session(ctx):
    code = promo(coupon(percent_off=10).id, "FIRST", restrictions={"first_time_transaction": True})
    first = session("first-1", discounts=[{"promotion_code": code.id}])
    hosted.pay(first.id)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        session("first-2", discounts=[{"promotion_code": code.id}])
    assert "first purchase" in refused.value.user_message


def test_a_code_past_its_expiry_is_refused(ctx, monkeypatch):
    code = promo(coupon(percent_off=10).id, "SOON", expires_at=int(time.time()) + 60)
    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        session("soon-1", discounts=[{"promotion_code": code.id}], expires_at=int(later) + 1800)
    assert "expired" in refused.value.user_message


# --- redemption ---


def test_a_code_is_redeemed_when_paid_and_refused_past_its_limit(ctx):
    code = promo(coupon(percent_off=50).id, "ONCE", max_redemptions=1)
    one = session("once-1", discounts=[{"promotion_code": code.id}])
    two = session("once-2", discounts=[{"promotion_code": code.id}], customer_email="b@ex.com")
    hosted.pay(one.id)
    with pytest.raises(hosted.PaymentError) as refused:
        hosted.pay(two.id)
    assert refused.value.status == 409 and "can no longer be used" in refused.value.message
    again = stripe_client().v1.checkout.sessions.retrieve(two.id)
    assert (again.status, again.payment_status, again.payment_intent) == ("open", "unpaid", None)
    found = stripe_client().v1.promotion_codes.retrieve(code.id)
    assert found.times_redeemed == 1
    deactivated = stripe_client().v1.promotion_codes.update(code.id, params={"active": False})
    assert deactivated.active is False and deactivated.times_redeemed == 1


def test_a_code_typed_on_the_hosted_page_prices_the_session_again(ctx):
    code = promo(coupon(percent_off=20).id, "PAGE")
    made = session("page-1", allow_promotion_codes=True)
    assert made.allow_promotion_codes is True and made.amount_total == 5900
    paid = hosted.pay(made.id, form={"promotion_code": "page"})["session"]
    assert paid["total_details"]["amount_discount"] == 1180
    assert paid["amount_total"] == 4720
    assert paid["discounts"] == [{"coupon": code.promotion.coupon, "promotion_code": code.id}]


def test_a_typed_code_the_session_does_not_take_or_that_is_unknown_is_refused(ctx):
    plain = session("plain-1")
    with pytest.raises(hosted.PaymentError, match="does not take promotion codes"):
        hosted.pay(plain.id, form={"promotion_code": "ANY"})
    open_one = session("open-1", allow_promotion_codes=True)
    with pytest.raises(hosted.PaymentError, match="is not valid"):
        hosted.pay(open_one.id, form={"promotion_code": "UNKNOWN"})


def test_a_session_that_comes_to_nothing_needs_no_card_and_no_payment_intent(ctx):
    code = promo(coupon(percent_off=100).id, "FREE")
    made = session("free-1", discounts=[{"promotion_code": code.id}])
    assert made.amount_total == 0
    paid = hosted.pay(made.id, card_number="")["session"]
    assert (paid["payment_status"], paid["payment_intent"]) == ("no_payment_required", None)


def test_a_percentage_keeps_its_decimals(ctx):
    found = coupon(percent_off="12.5")
    assert found.percent_off == 12.5
    assert (
        pricing.discount_of(1000, {"percent_off": str(Decimal("12.50")), "amount_off": None}) == 125
    )
