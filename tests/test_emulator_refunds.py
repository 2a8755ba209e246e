"""Refunds through the real SDK: amounts, Stripe's refusals, idempotency, events, failures."""

import pytest
import stripe

from conftest import postgres_server_url, serve
from shop.extensions import db
from shop.payments import emulator
from shop.payments.emulator.models import EmulatorRefund, EmulatorSession
from stripe_helpers import (
    app_with,
    delivered,
    handle_only,
    in_parallel,
    paid_intent,
    recorded_events,
    remote_client,
    session_params,
    stripe_client,
)

TOTAL = 2 * 1250 + 3400  # session_params(): 2 x 12.50 + 34.00


@pytest.fixture
def ctx(app):
    """An app context, as a view or a command has."""
    with app.app_context():
        yield app


def refund(options=None, **params):
    """POST /v1/refunds through the shop's SDK client."""
    return stripe_client().v1.refunds.create(params=params, options=options or {})


def charge_of(intent_id: str):
    """The intent's charge as Stripe reports it now."""
    intent = stripe_client().v1.payment_intents.retrieve(intent_id)
    return stripe_client().v1.charges.retrieve(intent.latest_charge)


def test_a_paid_session_has_a_succeeded_intent_and_a_captured_charge(ctx):
    intent_id = paid_intent()
    intent = stripe_client().v1.payment_intents.retrieve(
        intent_id, params={"expand": ["latest_charge"]}
    )
    assert (intent.status, intent.amount, intent.amount_received) == ("succeeded", TOTAL, TOTAL)
    assert intent.metadata.to_dict() == {"order_id": "1001"}
    charge = intent.latest_charge
    assert charge.id.startswith("ch_") and charge.payment_intent == intent_id
    assert (charge.amount, charge.amount_captured, charge.amount_refunded) == (TOTAL, TOTAL, 0)
    assert (charge.captured, charge.paid, charge.refunded, charge.status) == (
        True, True, False, "succeeded",
    )  # fmt: skip


def test_a_full_refund_refunds_everything_and_announces_it_in_order(ctx):
    intent_id = paid_intent()
    made = refund(payment_intent=intent_id, reason="requested_by_customer")
    assert (made.object, made.status, made.amount, made.currency) == (
        "refund", "succeeded", TOTAL, "usd",
    )  # fmt: skip
    assert made.payment_intent == intent_id and made.reason == "requested_by_customer"
    charge = charge_of(intent_id)
    assert (charge.amount_refunded, charge.refunded) == (TOTAL, True)
    # Delivered before the call returned, through the real route; the shop has no handler
    # for refund events yet and answers 200 "ignored".
    assert delivered() == [
        ("checkout.session.completed", 200),
        ("refund.created", 200),
        ("charge.refunded", 200),
    ]
    created, refunded = recorded_events()[-2:]
    assert created["data"]["object"]["id"] == made.id
    assert refunded["data"]["object"]["id"] == charge.id
    assert refunded["data"]["object"]["amount_refunded"] == TOTAL
    assert refunded["data"]["object"]["refunded"] is True
    assert refunded["data"]["object"]["payment_intent"] == intent_id


def test_partial_refunds_add_up_and_the_last_takes_what_is_left(ctx):
    intent_id = paid_intent()
    first = refund(payment_intent=intent_id, amount=1000)
    assert (first.amount, charge_of(intent_id).refunded) == (1000, False)
    assert charge_of(intent_id).amount_refunded == 1000
    rest = refund(payment_intent=intent_id)  # no amount: all that is left
    assert rest.amount == TOTAL - 1000
    assert (charge_of(intent_id).amount_refunded, charge_of(intent_id).refunded) == (TOTAL, True)


def test_a_refund_by_charge_id_works_the_same(ctx):
    charge_id = charge_of(paid_intent()).id
    made = refund(charge=charge_id, amount=500, metadata={"admin": "7"})
    assert (made.charge, made.amount, made.metadata.to_dict()) == (charge_id, 500, {"admin": "7"})


def test_more_than_is_left_is_refused_in_stripes_words_and_changes_nothing(ctx):
    intent_id = paid_intent()
    refund(payment_intent=intent_id, amount=1000)
    events_before = len(recorded_events())
    with pytest.raises(stripe.InvalidRequestError) as caught:
        refund(payment_intent=intent_id, amount=TOTAL)
    error = caught.value
    assert (error.http_status, error.code, error.param) == (400, "amount_too_large", "amount")
    assert error.user_message == (
        "Refund amount ($59.00) is greater than unrefunded amount on charge ($49.00)"
    )
    assert charge_of(intent_id).amount_refunded == 1000
    assert db.session.scalar(db.select(db.func.count()).select_from(EmulatorRefund)) == 1
    assert len(recorded_events()) == events_before


def test_a_fully_refunded_charge_is_already_refunded(ctx):
    intent_id = paid_intent()
    refund(payment_intent=intent_id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        refund(payment_intent=intent_id, amount=1)
    assert caught.value.code == "charge_already_refunded"
    assert (
        caught.value.user_message == f"Charge {charge_of(intent_id).id} has already been refunded."
    )


def test_an_intent_without_a_successful_charge_cannot_be_refunded(ctx):
    session = stripe_client().v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": "declined"}
    )
    with pytest.raises(emulator.PaymentError):
        emulator.pay(session.id, "4000000000000002")
    intent_id = stripe_client().v1.checkout.sessions.retrieve(session.id).payment_intent
    intent = stripe_client().v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.latest_charge) == ("requires_payment_method", None)
    assert intent.last_payment_error.code == "card_declined"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        refund(payment_intent=intent_id)
    assert caught.value.http_status == 400
    assert "does not have a successful charge to refund" in caught.value.user_message
    assert caught.value.error.type == "invalid_request_error"
    # Paying again succeeds on the same PaymentIntent, which can then be refunded.
    emulator.pay(session.id)
    assert stripe_client().v1.checkout.sessions.retrieve(session.id).payment_intent == intent_id
    assert refund(payment_intent=intent_id).amount == TOTAL


@pytest.mark.parametrize(
    ("params", "status", "code", "param"),
    [
        ({"payment_intent": "pi_nope"}, 404, "resource_missing", "payment_intent"),
        ({"charge": "ch_nope"}, 404, "resource_missing", "charge"),
        ({}, 400, None, None),
        ({"payment_intent": "pi_x", "charge": "ch_x"}, 400, None, "charge"),
        ({"payment_intent": "pi_x", "amount": "0"}, 400, "parameter_invalid_integer", "amount"),
        ({"payment_intent": "pi_x", "amount": "1.5"}, 400, "parameter_invalid_integer",
         "amount"),
        ({"payment_intent": "pi_x", "reason": "changed_mind"}, 400, None, "reason"),
        ({"payment_intent": "pi_x", "currency": "usd"}, 400, "parameter_unknown", "currency"),
    ],
)  # fmt: skip
def test_bad_refund_requests_get_stripes_errors(ctx, params, status, code, param):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        refund(**params)
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (
        status, code, param,
    )  # fmt: skip
    assert db.session.scalar(db.select(db.func.count()).select_from(EmulatorRefund)) == 0


def test_one_idempotency_key_posted_twice_refunds_once(ctx):
    intent_id = paid_intent()
    options = {"idempotency_key": "refund-order-1-1"}
    first = refund(options, payment_intent=intent_id, amount=700)
    again = refund(options, payment_intent=intent_id, amount=700)
    assert again.id == first.id and again.to_dict() == first.to_dict()
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert charge_of(intent_id).amount_refunded == 700
    assert [t for t, _ in delivered()].count("refund.created") == 1
    with pytest.raises(stripe.IdempotencyError):
        refund(options, payment_intent=intent_id, amount=800)


@pytest.mark.skipif(postgres_server_url() is None, reason="needs PostgreSQL: TEST_DATABASE_URL")
def test_ten_concurrent_posts_with_one_key_make_one_refund_on_postgresql(app):
    with app.app_context():
        intent_id = paid_intent()
    ids, failures = [], []

    def post(_n: int):
        """One admin double-click's worth of the same refund request."""
        with app.app_context():
            try:
                made = refund({"idempotency_key": "refund-race"}, payment_intent=intent_id)
                ids.append(made.id)
            except Exception as error:  # collected so the assertion shows it
                failures.append(error)

    in_parallel(post, 10)
    assert failures == [] and len(ids) == 10 and len(set(ids)) == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(EmulatorRefund)) == 1
        assert charge_of(intent_id).amount_refunded == TOTAL
        assert [t for t, _ in delivered()].count("charge.refunded") == 1


@pytest.mark.skipif(postgres_server_url() is None, reason="needs PostgreSQL: TEST_DATABASE_URL")
def test_concurrent_refunds_with_different_keys_never_exceed_the_charge(app):
    with app.app_context():
        intent_id = paid_intent()
    outcomes: list[str] = []

    def post(n: int):
        """A separate refund of 20.00 (only two fit in 59.00)."""
        with app.app_context():
            try:
                refund({"idempotency_key": f"part-{n}"}, payment_intent=intent_id, amount=2000)
                outcomes.append("refunded")
            except stripe.InvalidRequestError as error:
                outcomes.append(error.code)

    in_parallel(post, 8)
    assert sorted(outcomes) == ["amount_too_large"] * 6 + ["refunded"] * 2
    with app.app_context():
        assert charge_of(intent_id).amount_refunded == 4000


def test_with_webhooks_off_refund_events_are_recorded_not_delivered(migrated):
    with app_with(migrated, STRIPE_EMULATOR_WEBHOOKS=False) as app, app.app_context():
        made = refund(payment_intent=paid_intent())
        assert delivered() == []
        types = [event["type"] for event in recorded_events()]
        assert types == ["checkout.session.completed", "refund.created", "charge.refunded"]
        assert recorded_events()[1]["data"]["object"]["id"] == made.id


def test_the_refund_fails_card_makes_refunds_fail_after_succeeding(ctx):
    intent_id = paid_intent(card="4000 0000 0000 5126")
    made = refund(payment_intent=intent_id, amount=1500)
    assert made.status == "succeeded"  # as Stripe answers at first
    now = stripe_client().v1.refunds.retrieve(made.id)
    assert (now.status, now.failure_reason) == ("failed", "expired_or_canceled_card")
    assert (charge_of(intent_id).amount_refunded, charge_of(intent_id).refunded) == (0, False)
    assert delivered()[1:] == [
        ("refund.created", 200),
        ("charge.refunded", 200),
        ("refund.failed", 200),
        ("refund.updated", 200),
    ]
    failed, updated = recorded_events()[3:]
    assert failed["data"]["object"]["status"] == "failed"
    assert failed["request"] == {"id": None, "idempotency_key": None}  # not caused by a call
    assert updated["data"]["previous_attributes"] == {"failure_reason": None, "status": "succeeded"}


def test_refunds_list_newest_first_per_intent_or_charge_and_page(ctx):
    first_intent, other_intent = paid_intent("a"), paid_intent("b")
    made = [refund(payment_intent=first_intent, amount=100 + n).id for n in range(3)]
    other = refund(payment_intent=other_intent, amount=50).id
    refunds = stripe_client().v1.refunds
    page = refunds.list(params={"payment_intent": first_intent, "limit": 2})
    assert [r.id for r in page.data] == made[::-1][:2] and page.has_more is True
    assert page.url == "/v1/refunds"
    rest = refunds.list(params={"payment_intent": first_intent, "starting_after": made[1]})
    assert [r.id for r in rest.data] == [made[0]] and rest.has_more is False
    before = refunds.list(params={"payment_intent": first_intent, "ending_before": made[0]})
    assert [r.id for r in before.data] == [made[2], made[1]]
    charge_id = charge_of(other_intent).id
    assert [r.id for r in refunds.list(params={"charge": charge_id}).data] == [other]
    assert [r.id for r in refunds.list().data] == [other, *made[::-1]]
    assert refunds.retrieve(other).amount == 50
    with pytest.raises(stripe.InvalidRequestError) as caught:
        refunds.retrieve("re_nope")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


def test_refunds_over_http_answer_as_in_process(app):
    with app.app_context():
        intent_id = paid_intent()
    with serve(app) as url:
        remote = remote_client(url)
        made = remote.v1.refunds.create(
            params={"payment_intent": intent_id, "amount": 900},
            options={"idempotency_key": "http-refund"},
        )
        again = remote.v1.refunds.create(
            params={"payment_intent": intent_id, "amount": 900},
            options={"idempotency_key": "http-refund"},
        )
        assert again.id == made.id and again.last_response.headers["Idempotent-Replayed"] == "true"
        assert remote.v1.refunds.retrieve(made.id).to_dict() == made.to_dict()
        listed = remote.v1.refunds.list(params={"payment_intent": intent_id})
        assert [r.id for r in listed.data] == [made.id]
        with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded"):
            remote.v1.refunds.create(params={"payment_intent": intent_id, "amount": TOTAL})
    with app.app_context():
        assert charge_of(intent_id).amount_refunded == 900
        assert [t for t, _ in delivered()] == [
            "checkout.session.completed", "refund.created", "charge.refunded",
        ]  # fmt: skip


def test_a_session_marked_paid_straight_in_the_table_gets_its_intent_when_asked(ctx):
    # As the multi-process proofs "pay at Stripe": an UPDATE, no hosted page, no intent row.
    session = stripe_client().v1.checkout.sessions.create(params=session_params())
    db.session.execute(
        db.update(EmulatorSession)
        .where(EmulatorSession.id == session.id)
        .values(status="complete", payment_status="paid", payment_intent="pi_straight")
    )
    db.session.commit()
    expanded = stripe_client().v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent"]}
    )
    assert (expanded.payment_intent.id, expanded.payment_intent.status) == (
        "pi_straight", "succeeded",
    )  # fmt: skip
    assert refund(payment_intent="pi_straight", amount=300).amount == 300
    assert charge_of("pi_straight").amount_refunded == 300
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client().v1.payment_intents.retrieve("pi_never_made")


def test_the_webhook_runs_after_the_refund_committed_and_may_call_stripe_back(ctx):
    # Delivered inside the SDK call but after the emulator's transaction: a handler that
    # reads the charge back sees the refund, and nothing waits on a lock held by the call.
    seen: list[tuple[str, int]] = []

    def read_back(event):
        """The shop's handler asking Stripe for the refund and its charge, as a real one may."""
        [made] = stripe_client().v1.refunds.list(params={"limit": 1}).data
        charge = stripe_client().v1.charges.retrieve(made.charge)
        seen.append((made.id, charge.amount_refunded))

    handle_only(ctx, {"refund.created": [read_back]})

    intent_id = paid_intent()
    made = refund(payment_intent=intent_id, amount=1200)
    assert seen == [(made.id, 1200)]
    assert ("refund.created", 200) in delivered()
