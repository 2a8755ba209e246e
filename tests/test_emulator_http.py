"""The emulator over HTTP (`/emulator/stripe/v1/...`), for SDKs in other processes."""

import pytest
import stripe

from conftest import serve
from shop.config import EMULATOR_API_KEY
from shop.payments import emulator
from stripe_helpers import session_params

API = "/emulator/stripe/v1"
AUTH = {"Authorization": f"Bearer {EMULATOR_API_KEY}"}
FORM = {
    "mode": "payment",
    "line_items[0][price_data][currency]": "eur",
    "line_items[0][price_data][unit_amount]": "900",
    "line_items[0][price_data][product_data][name]": "Filter papers",
    "line_items[0][quantity]": "3",
    "success_url": "https://shop.example/ok?session_id={CHECKOUT_SESSION_ID}",
    "metadata[order_id]": "5",
}


def test_create_over_http_with_the_sdks_form_encoding(client):
    response = client.post(f"{API}/checkout/sessions", data=FORM, headers=AUTH)
    assert response.status_code == 200
    session = response.get_json()
    assert (session["amount_total"], session["currency"]) == (2700, "eur")
    assert session["metadata"] == {"order_id": "5"}
    assert session["url"].startswith("http://localhost/emulator/checkout/cs_test_")
    assert response.headers["Request-Id"].startswith("req_")


def test_retrieve_and_list_over_http(client):
    created = client.post(f"{API}/checkout/sessions", data=FORM, headers=AUTH).get_json()
    one = client.get(
        f"{API}/checkout/sessions/{created['id']}?expand[]=line_items", headers=AUTH
    ).get_json()
    assert one["line_items"]["data"][0]["quantity"] == 3
    listed = client.get(f"{API}/checkout/sessions?limit=1&status=open", headers=AUTH).get_json()
    assert listed["object"] == "list" and [s["id"] for s in listed["data"]] == [created["id"]]


def test_idempotent_replay_is_marked(client):
    headers = {**AUTH, "Idempotency-Key": "http-1"}
    first = client.post(f"{API}/checkout/sessions", data=FORM, headers=headers)
    again = client.post(f"{API}/checkout/sessions", data=FORM, headers=headers)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post(f"{API}/checkout/sessions", data={**FORM, "mode": "setup"}, headers=headers)
    assert other.status_code == 400
    assert other.get_json()["error"]["type"] == "idempotency_error"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk_test_wrongwrongwrong"}, {"Authorization": "Basic Og=="}],
)
def test_a_wrong_or_missing_key_is_401(app, client, headers):
    response = client.post(f"{API}/checkout/sessions", data=FORM, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["type"] == "invalid_request_error"
    assert "wrongwrong" not in response.get_data(as_text=True)  # keys are masked
    with app.app_context():
        assert emulator.count_sessions() == 0


def test_unknown_urls_and_bad_params_are_stripe_errors(client):
    missing = client.get(f"{API}/customers", headers=AUTH)
    assert missing.status_code == 404
    assert "Unrecognized request URL" in missing.get_json()["error"]["message"]
    negative = client.post(
        f"{API}/checkout/sessions",
        data={**FORM, "line_items[0][price_data][unit_amount]": "-900"},
        headers=AUTH,
    )
    error = negative.get_json()["error"]
    assert negative.status_code == 400
    assert (error["code"], error["param"]) == (
        "parameter_invalid_integer",
        "line_items[0][price_data][unit_amount]",
    )
    unknown = client.get(f"{API}/checkout/sessions/cs_test_nope", headers=AUTH)
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["code"] == "resource_missing"
    bad_limit = client.get(f"{API}/checkout/sessions?limit=101", headers=AUTH)
    assert bad_limit.get_json()["error"]["param"] == "limit"


def test_the_api_needs_no_csrf_token_but_the_key(client):
    # CSRF stays on for the app; the API is authenticated by its key instead.
    assert client.post(f"{API}/checkout/sessions", data=FORM, headers=AUTH).status_code == 200


@pytest.fixture
def live_server(app):
    """The app served on a real socket, as another process would reach it."""
    with serve(app) as url:
        yield url


def test_an_sdk_in_another_process_can_use_the_emulator(live_server):
    base = {"api": f"{live_server}/emulator/stripe"}
    client = stripe.StripeClient(EMULATOR_API_KEY, base_addresses=base)
    session = client.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": "remote-1"}
    )
    assert session.url.startswith(f"{live_server}/emulator/checkout/")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert client.v1.checkout.sessions.expire(session.id).status == "expired"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)
    wrong = stripe.StripeClient("sk_test_not_the_emulator", base_addresses=base)
    with pytest.raises(stripe.AuthenticationError):
        wrong.v1.checkout.sessions.list()


@pytest.mark.parametrize(
    "body",
    [
        "line_items=x&line_items[0][quantity]=1",
        "line_items[0][quantity]=1&line_items=x",
        "mode=payment&line_items[0]=x&success_url=https://a.example/",
        "mode=payment&line_items[x][quantity]=1&success_url=https://a.example/",
        "metadata[a][b]=1&mode=payment",
        "[x]=1",
        "expand[]=customer&mode=payment",
        "mode[0]=payment",
        "line_items[0][price_data][unit_amount][0]=5&mode=payment",
    ],
)
def test_malformed_encodings_are_400s_not_500s(app, client, body):
    response = client.post(
        f"{API}/checkout/sessions",
        data=body,
        headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["type"] == "invalid_request_error"
    with app.app_context():
        assert emulator.count_sessions() == 0
