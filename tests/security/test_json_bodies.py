"""Issue #38, finding 4: a JSON body cannot get around the limits that key on a form's
fields. The shop's forms take forms only; a JSON body is answered 415 before any limit
counts it or any password is checked, so the form's budgets are the only way in."""

import pytest

from conftest import PASSWORD, csrf_token

WRONG = "not the password"


def form_login(client, password=WRONG):
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"email": "ada@example.com", "password": password, "csrf_token": token}
    )


def json_post(client, path, body, token_page="/"):
    """A JSON body with a valid CSRF token in the header, as a script would send it."""
    token = csrf_token(client, token_page)
    return client.post(path, json=body, headers={"X-CSRFToken": token})


def test_a_json_login_is_refused_even_with_the_right_password(auth, client):
    auth.create_user()
    response = json_post(client, "/login", {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 415
    assert "takes a form" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # not signed in


def test_json_tries_past_the_forms_lock_guess_nothing(auth, client):
    """Before: 10 form failures gave 429, then 10 more JSON tries were checked against the
    password (each a 422, the right one a 302). Now every JSON try is a 415."""
    auth.create_user()
    for _ in range(10):
        assert form_login(client).status_code == 422
    assert form_login(client).status_code == 429
    answers = [
        json_post(client, "/login", {"email": "ada@example.com", "password": p}).status_code
        for p in [WRONG] * 9 + [PASSWORD]
    ]
    assert answers == [415] * 10
    assert client.get("/account").status_code == 302


def test_json_tries_do_not_spend_the_owners_budget(auth, client):
    auth.create_user()
    for _ in range(15):
        json_post(client, "/login", {"email": "ada@example.com", "password": WRONG})
    assert form_login(client, PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "path,body",
    [
        ("/register", {"email": "new@example.com", "password": PASSWORD, "confirm": PASSWORD}),
        ("/reset-password", {"email": "ada@example.com"}),
    ],
)
def test_the_other_email_keyed_forms_refuse_json_and_write_nothing(app, auth, client, path, body):
    auth.create_user()
    assert json_post(client, path, body).status_code == 415
    from shop.auth.models import User
    from shop.extensions import db

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1


def test_a_signed_in_customers_forms_refuse_json_too(client, user):
    body = {"current_password": WRONG, "password": "a new pass phrase", "confirm": "x"}
    assert json_post(client, "/account/password", body, "/account").status_code == 415
    assert json_post(client, "/cart/items", {"product_id": 1, "quantity": 1}).status_code == 415


def test_stripe_webhooks_still_take_json(client):
    """The webhook reads its JSON body itself (and proves it by signature): no 415."""
    response = client.post("/stripe/webhook", json={"id": "evt_x"})
    assert response.status_code == 400  # no signature: refused by the webhook, not here
