"""Saved cards: one Stripe Customer per account from its first checkout, a card saved on
Stripe's page is offered next time, listed and removed on the account page, and gone with
the account. The emulator's Customers and PaymentMethods are checked against Stripe's
schemas (the plugin)."""

import json
import re

from emulator_schema import stripe_schema  # noqa: F401

from checkout_helpers import add, checkout, orders, session_url
from conftest import PASSWORD, AuthActions, csrf_token
from shop.auth.models import User
from shop.extensions import db
from shop.payments.emulator import hosted
from stripe_helpers import stripe_client

HTMX = {"HX-Request": "true"}


def session_id(response) -> str:
    """The Checkout Session a checkout answer sends the browser to."""
    return session_url(response).rsplit("/", 1)[-1]


def pay(app, sid: str, **form) -> dict:
    """Pay on the emulator's page with the form's fields."""
    with app.test_request_context():
        return hosted.pay(sid, form.pop("card", "4242424242424242"), form)


def customer_of(app, user_id: int) -> str | None:
    """The account's Stripe Customer id."""
    with app.app_context():
        return db.session.scalar(db.select(User.stripe_customer_id).where(User.id == user_id))


def cards(client) -> list[str]:
    """The saved cards page's rows: their PaymentMethod ids."""
    page = client.get("/account/payment-methods").get_data(as_text=True)
    return re.findall(r'class="saved-card" data-payment-method-id="(pm_\w+)"', page)


def test_the_first_checkout_makes_one_customer_and_offers_to_save_the_card(
    app, client, user, seeded
):
    assert customer_of(app, user) is None
    add(client, seeded["MUG-STONE"])
    first = checkout(client)
    customer = customer_of(app, user)
    assert customer and customer.startswith("cus_")
    with app.app_context():
        session = stripe_client().v1.checkout.sessions.retrieve(session_id(first))
        assert session.customer == customer and session.customer_email is None
        assert session.saved_payment_method_options.payment_method_save == "enabled"
        assert stripe_client().v1.customers.retrieve(customer).email == "ada@example.com"
    page = client.get(session_url(first)).get_data(as_text=True)
    assert 'name="save_card" value="on"' in page
    pay(app, session_id(first), save_card="on")
    add(client, seeded["MUG-STONE"])
    second = checkout(client)
    assert customer_of(app, user) == customer  # the same Customer, not a new one
    page = client.get(session_url(second)).get_data(as_text=True)
    [saved] = cards(client)
    assert f'data-payment-method-id="{saved}"' in page and "Visa ending 4242" in page
    paid = pay(app, session_id(second), card="", payment_method=saved)
    assert paid["session"]["payment_status"] == "paid"
    assert [o.status for o in orders(app)] == ["paid", "paid"]


def test_an_unticked_box_saves_nothing(app, client, user, seeded):
    add(client, seeded["MUG-STONE"])
    pay(app, session_id(checkout(client)))
    assert cards(client) == []
    page = client.get("/account/payment-methods").get_data(as_text=True)
    assert "No saved cards." in page


def test_a_card_is_listed_and_removed_and_detached_at_stripe(app, client, user, seeded):
    add(client, seeded["MUG-STONE"])
    pay(app, session_id(checkout(client)), save_card="on")
    page = client.get("/account/payment-methods").get_data(as_text=True)
    assert 'Visa</span> ending <span class="card-last4">4242</span>, expires 12/2034' in page
    [pm] = cards(client)
    token = csrf_token(client, "/account/payment-methods")
    removed = client.post(f"/account/payment-methods/{pm}/remove", data={"csrf_token": token})
    assert removed.status_code == 303 and cards(client) == []
    with app.app_context():
        assert stripe_client().v1.payment_methods.retrieve(pm).customer is None
    again = client.post(f"/account/payment-methods/{pm}/remove", data={"csrf_token": token})
    assert again.status_code == 404


def test_another_customers_card_is_a_404(app, client, user, seeded):
    add(client, seeded["MUG-STONE"])
    pay(app, session_id(checkout(client)), save_card="on")
    [pm] = cards(client)
    eve = app.test_client()
    AuthActions(app, eve).create_user("eve@example.com")
    AuthActions(app, eve).login("eve@example.com")
    token = csrf_token(eve, "/account")
    for target in (pm, "pm_doesnotexist", "x" * 300):
        answer = eve.post(f"/account/payment-methods/{target}/remove", data={"csrf_token": token})
        assert answer.status_code == 404
    assert cards(client) == [pm]  # still Ada's


def test_deleting_the_account_deletes_the_customer_and_its_cards(app, client, user, seeded):
    add(client, seeded["MUG-STONE"])
    pay(app, session_id(checkout(client)), save_card="on")
    [pm] = cards(client)
    customer = customer_of(app, user)
    token = csrf_token(client, "/account")
    deleted = client.post("/account/delete", data={"current": PASSWORD, "csrf_token": token})
    assert deleted.status_code == 302
    assert customer_of(app, user) is None
    with app.app_context():
        assert stripe_client().v1.payment_methods.retrieve(pm).customer is None
        from shop.payments.emulator.models import EmulatorCustomer
        from shop.payments.emulator.store import transaction

        with transaction() as s:
            assert s.query(EmulatorCustomer).filter_by(id=customer).one().deleted


def test_the_data_export_has_favourites_and_cards_brand_and_last4_only(app, client, user, seeded):
    add(client, seeded["MUG-STONE"])
    pay(app, session_id(checkout(client)), save_card="on")
    token = csrf_token(client)
    client.post("/favourites", data={"product_id": seeded["GEAR-KETTLE"], "csrf_token": token})
    data = json.loads(client.get("/account/data").get_data(as_text=True))
    assert data["saved_cards"] == [{"brand": "visa", "last4": "4242"}]
    assert data["favourites"] == [{"sku": "GEAR-KETTLE", "name": data["favourites"][0]["name"]}]


def test_the_emulator_refuses_saving_without_a_customer_and_both_customer_and_email(app):
    import pytest
    import stripe

    from stripe_helpers import session_params

    with app.app_context():
        customer = stripe_client().v1.customers.create(params={"email": "a@example.com"})
        for params, param in (
            ({"saved_payment_method_options": {"payment_method_save": "enabled"}},
             "saved_payment_method_options[payment_method_save]"),
            ({"customer": customer.id}, "customer_email"),
        ):  # fmt: skip
            with pytest.raises(stripe.InvalidRequestError) as refused:
                stripe_client().v1.checkout.sessions.create(params=session_params(**params))
            assert refused.value.param == param
        listed = stripe_client().v1.customers.payment_methods.list(customer.id)
        assert listed.data == [] and listed.has_more is False
        gone = stripe_client().v1.customers.delete(customer.id)
        assert gone.deleted is True
        with pytest.raises(stripe.InvalidRequestError):
            stripe_client().v1.customers.retrieve(customer.id)


def test_a_customer_deleted_at_stripe_is_replaced_at_the_next_try(app, client, user, seeded):
    add(client, seeded["MUG-STONE"])
    pay(app, session_id(checkout(client)))
    gone = customer_of(app, user)
    with app.app_context():
        stripe_client().v1.customers.delete(gone)  # as from Stripe's Dashboard
    add(client, seeded["MUG-STONE"])
    failed = checkout(client)
    assert failed.status_code == 503 and "Nothing was charged" in failed.get_data(as_text=True)
    assert customer_of(app, user) == f"gone:{gone}"
    retried = checkout(client)
    assert retried.status_code == 200
    fresh = customer_of(app, user)
    assert fresh and fresh != gone
