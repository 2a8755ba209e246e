"""Stripe's schemas (generated from the pinned SDK) are current, have teeth, and every
endpoint of the emulator answers within them."""

import copy
import importlib.util
import json

import pytest
import stripe
from emulator_schema import (
    SCHEMAS,
    problems,
    stripe_schema,  # noqa: F401 (checks every answer against Stripe's schema)
)

from shop.payments import emulator
from stripe_helpers import paid_intent, session_params, stripe_client


def generator():
    """tests/fixtures/stripe/schemas/generate.py, loaded as a module."""
    spec = importlib.util.spec_from_file_location("generate", SCHEMAS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_schemas_are_what_the_installed_sdk_generates():
    module = generator()
    for name, schema in module.schemas().items():
        path = SCHEMAS / f"{name}.json"
        assert path.exists(), f"{path.name} missing: run {SCHEMAS / 'generate.py'}"
        assert path.read_text() == module.render(schema), f"{path.name} is stale"
        assert schema["x-stripe-python"] == stripe.VERSION
        assert schema["x-stripe-api-version"] == stripe.api_version
    assert module.main(["--check"]) == 0


@pytest.fixture
def session(app):
    """A Checkout Session as the emulator answers it, with its line items."""
    with app.app_context():
        return (
            stripe_client()
            .v1.checkout.sessions.create(
                params={**session_params(), "expand": ["line_items"]},
                options={"idempotency_key": "schema-1"},
            )
            .last_response.body
        )


def test_an_answer_of_the_emulator_passes(session):
    assert problems(json.loads(session)) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda s: s.pop("payment_status"), "'payment_status' is a required property"),
        (lambda s: s.update(shipping_rate="x"), "Additional properties are not allowed"),
        (lambda s: s.update(ui_mode="hosted"), "'hosted' is not one of"),
        (lambda s: s.update(amount_total="5900"), "is not of type 'integer'"),
        (lambda s: s["line_items"]["data"][0].pop("price"), "'price' is a required property"),
        (lambda s: s["line_items"].update(has_more=None), "is not of type 'boolean'"),
    ],
)
def test_the_schema_refuses_what_stripe_would_not_send(session, change, complaint):
    body = copy.deepcopy(json.loads(session))
    change(body)
    assert any(complaint in found for found in problems(body)), problems(body)


def test_an_event_is_checked_down_to_its_object(app):
    with app.app_context():
        paid_intent()
        answer = stripe_client().v1.events.list().last_response.body
    body = json.loads(answer)["data"][0]
    assert problems(body) == []
    body["data"]["object"]["amount_total"] = "many"
    assert problems(body) == ["event data/object/amount_total: 'many' is not of type 'integer'"]


def test_every_endpoint_answers_within_stripes_schemas(app, stripe_schema):  # noqa: F811
    with app.app_context():
        client = stripe_client().v1
        created = client.checkout.sessions.create(
            params={**session_params(), "expand": ["line_items", "payment_intent"]}
        )
        client.checkout.sessions.retrieve(created.id, params={"expand": ["line_items"]})
        client.checkout.sessions.line_items.list(created.id, params={"limit": 1})
        client.checkout.sessions.list(params={"expand": ["data.line_items"]})
        emulator.pay(created.id)
        client.checkout.sessions.retrieve(created.id, params={"expand": ["payment_intent"]})
        client.checkout.sessions.list(params={"expand": ["data.payment_intent"], "limit": 1})
        intent_id = client.checkout.sessions.retrieve(created.id).payment_intent
        intent = client.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]})
        client.charges.retrieve(intent.latest_charge.id)
        made = client.refunds.create(
            params={"payment_intent": intent_id, "amount": 100, "expand": ["charge"]}
        )
        client.refunds.retrieve(made.id, params={"expand": ["payment_intent"]})
        client.refunds.list(params={"payment_intent": intent_id, "expand": ["data.charge"]})
        events = client.events.list(params={"limit": 3})
        client.events.retrieve(events.data[0].id)
        other = client.checkout.sessions.create(params=session_params())
        client.checkout.sessions.expire(other.id, params={"expand": ["line_items"]})
        for failing in (
            lambda: client.refunds.create(params={"payment_intent": intent_id, "amount": 10**6}),
            lambda: client.checkout.sessions.retrieve("cs_test_nope"),
            lambda: client.events.retrieve("evt_nope"),
            lambda: client.checkout.sessions.create(params=session_params(mode="banana")),
        ):
            with pytest.raises(stripe.InvalidRequestError):
                failing()
    kinds = set()
    for status, body in stripe_schema:
        if status >= 400:
            kinds.add("error")
        elif body["object"] == "list":
            kinds.add("list")
            kinds.update(item["object"] for item in body["data"])
        else:
            kinds.add(body["object"])
            kinds.update(
                v["object"]
                for v in body.values()
                if isinstance(v, dict) and isinstance(v.get("object"), str)
            )
    assert kinds >= {"checkout.session", "item", "payment_intent", "charge", "refund", "event",
                     "list", "error"}  # fmt: skip
