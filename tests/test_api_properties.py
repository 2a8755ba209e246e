"""Property-based tests of the JSON API against its own OpenAPI document (Schemathesis):
every operation with generated input, then linked workflows (list, add, check out, read,
cancel). No server error, no answer outside the document, no undocumented status."""

import pytest
import schemathesis
from api_helpers import make_token
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from conftest import app_config
from shop import create_app
from shop.api.routes import document


def _document() -> dict:
    """The app's OpenAPI document (it depends on the code only, not on any data)."""
    app = create_app(app_config("sqlite://"))
    with app.app_context():
        return document()


class CurrentApp:
    """A WSGI app passing each request to the app of the test running now (the schema is
    loaded once, at collection; each test has an app and a database of its own)."""

    app = None
    #: (method, path) of each request the running test sent.
    seen: list[tuple[str, str]] = []

    def __call__(self, environ, start_response):
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return self.app(environ, start_response)


CURRENT_APP = CurrentApp()
schema = schemathesis.openapi.from_dict(_document())
schema.app = CURRENT_APP
#: The token of the test running now (each test's customer makes their own).
CURRENT: dict[str, str] = {}


@schema.auth(refresh_interval=None)
class Token:
    """How Schemathesis signs requests in, so its auth checks know what to leave out."""

    def get(self, case, context):
        return CURRENT.get("token", "nsr_none-yet")  # asked once at collection too

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


QUICK = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
                 database=None)  # fmt: skip


@pytest.fixture
def api_token(app, client, user, seeded) -> str:
    """This test's customer and token; Schemathesis sends its requests (and its probes
    without the token) to this test's app."""
    CURRENT_APP.app = app
    CURRENT_APP.seen = []
    CURRENT["token"] = make_token(client, "schemathesis")
    return CURRENT["token"]


@schema.parametrize()
@QUICK
def test_every_operation_keeps_to_the_document(case, api_token):
    case.call_and_validate()


def start_afresh(token: str) -> None:
    """Put the customer back where every workflow starts, through the API itself: the open
    checkouts cancelled, the cart emptied. Hypothesis replays a workflow to shrink it and
    expects the same answers (a cart left full by the last one would answer differently)."""
    client = CURRENT_APP.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    orders = client.get("/api/v1/orders?limit=100", headers=headers).get_json()
    for order in orders["data"]:
        if order["status"] == "pending":
            client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers)
    for line in client.get("/api/v1/cart", headers=headers).get_json()["lines"]:
        client.delete(f"/api/v1/cart/items/{line['sku']}", headers=headers)


def test_linked_workflows_keep_to_the_document(api_token):
    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {}

        def setup(self):
            start_afresh(api_token)

    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=15,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),  # fmt: skip
    )
