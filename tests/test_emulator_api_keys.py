"""A public demo is safe: in production the emulator's HTTP API answers only to
STRIPE_EMULATOR_API_KEY, is absent without it, and never takes the published key."""

from contextlib import ExitStack

import pytest
import stripe

from conftest import serve
from shop.config import EMULATOR_API_KEY, ConfigError, load_config
from shop.payments import emulator, gateway
from stripe_helpers import app_with, remote_client, session_params

API = "/emulator/stripe/v1"
DEMO_KEY = "sk_test_demo_0123456789abcdefghij"
PATHS = [
    ("GET", "/checkout/sessions"),
    ("POST", "/checkout/sessions"),
    ("GET", "/events"),
    ("POST", "/refunds"),
    ("GET", "/no/such/path"),
]


@pytest.fixture
def make_app(migrated):
    """Build apps with extra settings; their tables are emptied afterwards."""
    with ExitStack() as stack:
        yield lambda **settings: stack.enter_context(app_with(migrated, **settings))


def bearer(key: str) -> dict[str, str]:
    """The Authorization header the SDK sends."""
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_in_production_without_a_key_the_http_api_does_not_exist(make_app, method, path):
    client = make_app(PRODUCTION=True).test_client()
    response = client.open(f"{API}{path}", method=method, headers=bearer(EMULATOR_API_KEY))
    assert response.status_code == 404
    assert "error" not in (response.get_json(silent=True) or {})  # the app's 404, not Stripe's


def test_in_production_only_the_configured_key_is_answered(make_app):
    app = make_app(PRODUCTION=True, STRIPE_EMULATOR_API_KEY=DEMO_KEY)
    client = app.test_client()
    assert client.get(f"{API}/checkout/sessions", headers=bearer(DEMO_KEY)).status_code == 200
    published = client.get(f"{API}/checkout/sessions", headers=bearer(EMULATOR_API_KEY))
    assert published.status_code == 401
    assert published.get_json()["error"]["type"] == "invalid_request_error"
    with serve(app) as url:
        remote = remote_client(url, DEMO_KEY)
        session = remote.v1.checkout.sessions.create(params=session_params())
        assert remote.v1.checkout.sessions.retrieve(session.id).status == "open"
        with pytest.raises(stripe.AuthenticationError):
            remote_client(url).v1.checkout.sessions.list()


def test_the_published_key_is_refused_even_if_configured_in_production(make_app):
    client = make_app(PRODUCTION=True, STRIPE_EMULATOR_API_KEY=EMULATOR_API_KEY).test_client()
    response = client.get(f"{API}/checkout/sessions", headers=bearer(EMULATOR_API_KEY))
    assert response.status_code == 404


def test_start_up_refuses_the_published_key_in_production(tmp_path):
    demo = {"SECRET_KEY": "s", "STRIPE_EMULATOR": "1", "PUBLIC_URL": "https://shop.example.com"}
    env = {**demo, "STRIPE_EMULATOR_API_KEY": EMULATOR_API_KEY}
    with pytest.raises(ConfigError, match="STRIPE_EMULATOR_API_KEY"):
        load_config(env, str(tmp_path))
    env["STRIPE_EMULATOR_API_KEY"] = DEMO_KEY
    assert load_config(env, str(tmp_path))["STRIPE_EMULATOR_API_KEY"] == DEMO_KEY
    assert load_config(demo, str(tmp_path))["STRIPE_EMULATOR_API_KEY"] is None


def test_outside_production_the_development_key_and_the_configured_key_work(make_app):
    client = make_app(STRIPE_EMULATOR_API_KEY=DEMO_KEY).test_client()
    for key in (EMULATOR_API_KEY, DEMO_KEY):
        assert client.get(f"{API}/checkout/sessions", headers=bearer(key)).status_code == 200
    assert (
        client.get(f"{API}/checkout/sessions", headers=bearer("sk_test_x" * 3)).status_code == 401
    )


def test_the_shops_own_calls_work_in_production_without_any_key(make_app):
    app = make_app(PRODUCTION=True)
    with app.app_context():
        session = gateway.create_checkout_session(session_params(), "prod-order-1")
        emulator.pay(session["id"])
        paid = gateway.retrieve_checkout_session(session["id"])
        assert paid["payment_status"] == "paid"
        refund = gateway.client().v1.refunds.create(
            params={"payment_intent": paid["payment_intent"]}
        )
        assert refund.status == "succeeded"
