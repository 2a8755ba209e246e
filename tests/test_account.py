"""The account page: change the password, log out everywhere, download my data, delete it."""

import json

import pytest
from sqlalchemy import func, select

from conftest import PASSWORD, AuthActions, csrf_token
from shop.auth.models import User
from shop.cart.models import CartItem
from shop.extensions import db
from shop.orders.models import Order

NEW_PASSWORD = "lantern meadow quartz"


def post(client, path: str, **data):
    """Post one of the account page's forms with the page's token."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/account")})


def signed_in(client) -> bool:
    """Whether `client` still reaches My Orders."""
    return client.get("/orders").status_code == 200


@pytest.fixture
def elsewhere(app, user):
    """The same customer signed in, remembered, in another browser."""
    other = app.test_client()
    AuthActions(app, other).login(remember=True)
    assert signed_in(other)
    return other


def test_the_page_offers_each_action_and_is_not_cached(client, user):
    response = client.get("/account")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    for text in ("Change password", "Log out everywhere", "Download my data", "Delete my account"):
        assert text in page
    assert 'href="/account"' in client.get("/").get_data(as_text=True)


def test_changing_the_password_needs_the_current_one(auth, client, user):
    wrong = post(
        client, "/account/password", current="not it", password=NEW_PASSWORD, confirm=NEW_PASSWORD
    )
    assert wrong.status_code == 422
    assert "That is not your current password." in wrong.get_data(as_text=True)
    weak = post(
        client,
        "/account/password",
        current=PASSWORD,
        password="password1234",
        confirm="password1234",
    )
    assert weak.status_code == 422
    auth.logout()
    assert auth.login(password=PASSWORD).status_code == 302  # unchanged


def test_a_new_password_keeps_this_browser_and_ends_the_others(auth, client, user, elsewhere):
    response = post(
        client, "/account/password", current=PASSWORD, password=NEW_PASSWORD, confirm=NEW_PASSWORD
    )
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert signed_in(client)
    elsewhere.delete_cookie("session")  # even remembered, the other browser is out
    assert not signed_in(elsewhere)
    auth.logout()
    assert auth.login(password=PASSWORD).status_code == 422
    assert auth.login(password=NEW_PASSWORD).status_code == 302


def test_log_out_everywhere_ends_every_session(app, client, user, elsewhere):
    stolen = client.get_cookie("session").value
    response = post(client, "/account/logout-everywhere")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not signed_in(client)
    elsewhere.delete_cookie("session")
    assert not signed_in(elsewhere)
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert not signed_in(replay)


def test_my_data_is_a_json_file_of_my_account_and_orders(app, auth, client, order):
    auth.create_user("grace@example.com")  # another customer, not in the file
    response = client.get("/account/data")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "ada@example.com"
    [mine] = data["orders"]
    assert mine["id"] == order.id and mine["status"] == "pending"
    assert mine["total_cents"] == order.total_cents
    assert sorted(item["quantity"] for item in mine["items"]) == [1, 2]
    assert "grace" not in response.get_data(as_text=True)


def test_my_data_names_my_api_tokens_but_holds_none(app, client, user):
    from api_helpers import make_token

    token = make_token(client, "backup script")
    body = client.get("/account/data").get_data(as_text=True)
    [listed] = json.loads(body)["api_tokens"]
    assert listed["name"] == "backup script" and token.startswith(listed["prefix"])
    assert token not in body


def test_deleting_needs_the_password(app, client, user):
    assert post(client, "/account/delete", current="not it").status_code == 422
    assert signed_in(client)
    with app.app_context():
        assert db.session.get(User, user).deleted_at is None


def test_deleting_keeps_the_orders_anonymised_and_ends_everything(
    app, auth, client, order, elsewhere
):
    with app.app_context():  # the cart still holds what the pending order was made from
        assert db.session.scalar(select(func.count()).select_from(CartItem)) == 2
    response = post(client, "/account/delete", current=PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert not signed_in(client)
    elsewhere.delete_cookie("session")
    assert not signed_in(elsewhere)
    with app.app_context():
        user = db.session.get(User, order.user_id)
        assert user.email == f"deleted-{user.id}@deleted.invalid" and user.deleted_at is not None
        assert user.password_hash == ""
        kept = db.session.get(Order, order.id)
        assert kept.user_id == user.id and kept.total_cents == order.total_cents
        assert db.session.scalar(select(func.count()).select_from(CartItem)) == 0
    assert auth.login(password=PASSWORD).status_code == 422
    assert (
        auth.login(email=f"deleted-{order.user_id}@deleted.invalid", password="").status_code == 422
    )
    assert auth.register().status_code == 302  # the address is free again
