"""Issue #22, finding 1: a public demo (production on the emulator) accepts no constant
webhook secret; without STRIPE_WEBHOOK_SECRET it generates one per installation, kept in
the database, that every worker shares."""

from checkout_helpers import fixture_event, orders, pay
from conftest import PUBLIC_URL
from shop.config import EMULATOR_WEBHOOK_SECRET
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.installation import WEBHOOK_SECRET
from shop.payments.models import InstallationSecret
from stripe_helpers import signed_event


def post_event(app, event: dict, secret: str):
    """Deliver `event` signed with `secret` to the app's webhook, at its public address."""
    body, headers = signed_event(event, secret)
    return app.test_client().post(
        "/stripe/webhook", base_url=PUBLIC_URL, data=body, headers=headers
    )


def stored_secret(app) -> str:
    """The webhook secret this installation generated, as the database holds it."""
    with app.app_context():
        return db.session.get(InstallationSecret, WEBHOOK_SECRET).value


def test_an_event_signed_with_the_published_secret_is_refused(production_app, order):
    demo = production_app(STRIPE_WEBHOOK_SECRET=None)
    event = fixture_event("checkout.session.completed.json", order)
    response = post_event(demo, event, EMULATOR_WEBHOOK_SECRET)
    assert response.status_code == 400
    [still] = orders(demo)
    assert still.status == OrderStatus.PENDING


def test_the_generated_secret_is_shared_by_every_worker_and_verifies(production_app, order):
    first, second = production_app(STRIPE_WEBHOOK_SECRET=None), production_app()
    with first.app_context(), second.app_context():
        pass  # each worker resolves it when a context is first pushed
    secret = stored_secret(first)
    assert secret.startswith("whsec_") and len(secret) > 40
    assert secret != EMULATOR_WEBHOOK_SECRET
    assert first.config["STRIPE_WEBHOOK_SECRET"] == second.config["STRIPE_WEBHOOK_SECRET"] == secret
    event = fixture_event("checkout.session.completed.json", order)
    assert post_event(second, event, secret).status_code == 200
    [paid] = orders(second)
    assert paid.status == OrderStatus.PAID


def test_the_emulator_signs_its_deliveries_with_the_generated_secret(production_app, order):
    demo = production_app(STRIPE_WEBHOOK_SECRET=None)
    delivery = pay(demo, order.stripe_session_id)
    assert delivery["status_code"] == 200, delivery
    [paid] = orders(demo)
    assert paid.status == OrderStatus.PAID


def test_a_configured_secret_is_used_as_it_is(production_app, order):
    demo = production_app(STRIPE_WEBHOOK_SECRET="whsec_configured_by_the_operator")
    event = fixture_event("checkout.session.completed.json", order)
    assert post_event(demo, event, EMULATOR_WEBHOOK_SECRET).status_code == 400
    assert post_event(demo, event, "whsec_configured_by_the_operator").status_code == 200
    with demo.app_context():
        assert db.session.get(InstallationSecret, WEBHOOK_SECRET) is None
