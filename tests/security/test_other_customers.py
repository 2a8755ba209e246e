"""A customer reaches nothing of another's: cart lines, Checkout Sessions, orders.

Ada and Eve both shop. Whatever Ada sends with Eve's ids changes nothing of Eve's, and the
answer is the one a made-up id gets: it does not even confirm that the id exists.
"""

import re

import pytest
from cart_helpers import HTMX, Shopper, cart_lines, login_client
from sqlalchemy import select, update

from checkout_helpers import add, checkout, orders, session_email, session_url
from conftest import csrf_token
from shop.extensions import db
from shop.orders.models import Order
from shop.payments import emulator, gateway

EVE = "eve.private@example.com"


@pytest.fixture
def eve(app, auth, seeded):
    """Eve, signed in on her own client, with a pending order for a scale and a kettle."""
    user_id = auth.create_user(EVE)
    client = login_client(app, EVE)
    add(client, seeded["GEAR-SCALE"], 3)
    add(client, seeded["GEAR-KETTLE"], 1)
    response = checkout(client)
    [order] = orders(app, user_id)
    return {"id": user_id, "client": client, "order": order, "url": session_url(response)}


def secrets_of(app, eve) -> list[str]:
    """What of Eve's must never reach Ada: email, order number, amounts, session, products."""
    order = eve["order"]
    return [
        EVE,
        order.stripe_session_id,
        f'data-order-id="{order.id}"',
        f"Order #{order.id}",
        f"{order.total_cents / 100:.2f}",
        *(item.name for item in order.items),
    ]


def without_tokens(html: str) -> str:
    """A page with its per-session CSRF tokens blanked, to compare two answers."""
    html = re.sub(r'(csrf-token" content=|name="csrf_token" value=)"[^"]+"', r"\1", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


# --- cart lines ------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_changing_a_product_in_my_cart_never_touches_their_line(
    app, user, client, eve, seeded, htmx
):
    scale, kettle = seeded["GEAR-SCALE"], seeded["GEAR-KETTLE"]
    theirs = cart_lines(app, eve["id"])
    ada = Shopper(client)
    assert ada.add(scale, 2, htmx=htmx).status_code in (200, 303)
    assert ada.set(scale, 7, htmx=htmx).status_code in (200, 303)
    assert ada.set(scale, 0, htmx=htmx).status_code in (200, 303)
    assert ada.remove(kettle).status_code == 200  # in Eve's cart, not Ada's: a no-op
    assert cart_lines(app, eve["id"]) == theirs == {scale: 3, kettle: 1}
    assert cart_lines(app, user) == {}


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_setting_a_line_only_they_have_is_404_and_shows_only_my_cart(
    app, user, client, eve, seeded, htmx
):
    kettle, mug = seeded["GEAR-KETTLE"], seeded["MUG-STONE"]
    ada = Shopper(client)
    ada.add(mug, 1)
    response = ada.set(kettle, 5, htmx=htmx)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "no longer in your cart" in html
    assert f'data-product-id="{kettle}"' not in html and EVE not in html
    assert cart_lines(app, eve["id"])[kettle] == 1
    assert cart_lines(app, user) == {mug: 1}


# --- Checkout Sessions -----------------------------------------------------------------------


def test_their_session_id_on_my_success_page_is_the_404_of_a_made_up_one(app, client, user, eve):
    # Paid at Stripe, webhook not yet in: the success page would fulfil it for its owner.
    with app.test_request_context():
        emulator.pay(eve["order"].stripe_session_id, "4242424242424242")
    with app.app_context():
        db.session.execute(update(Order).values(status="pending", paid_at=None))
        db.session.commit()
    theirs = client.get(f"/checkout/success?session_id={eve['order'].stripe_session_id}")
    made_up = client.get("/checkout/success?session_id=cs_test_" + "x" * 58)
    assert theirs.status_code == made_up.status_code == 404
    html = theirs.get_data(as_text=True)
    assert without_tokens(html) == without_tokens(made_up.get_data(as_text=True))
    for secret in secrets_of(app, eve):
        assert secret not in html
    # Ada's visit did not fulfil Eve's order; Eve's own visit does.
    assert orders(app, eve["id"])[0].status == "pending"
    mine = eve["client"].get(f"/checkout/success?session_id={eve['order'].stripe_session_id}")
    assert mine.status_code == 200 and orders(app, eve["id"])[0].status == "paid"


@pytest.mark.parametrize(
    "session_id",
    ["", "%", "' OR '1'='1", "cs_test_" + "x" * 300, "../../orders", "cs_test_1\u202e", "[]"],
)
def test_made_up_session_ids_are_404(app, client, user, eve, session_id):
    response = client.get("/checkout/success", query_string={"session_id": session_id})
    assert response.status_code == 404
    assert orders(app, eve["id"])[0].status == "pending"


def test_my_checkout_never_resumes_or_retires_their_session(app, client, user, eve, seeded):
    add(client, seeded["MUG-STONE"], 1)
    url = session_url(checkout(client))
    assert url != eve["url"]
    [mine] = orders(app, user)
    [theirs] = orders(app, eve["id"])
    assert (theirs.status, theirs.stripe_session_id) == ("pending", eve["order"].stripe_session_id)
    with app.app_context():
        session = gateway.retrieve_checkout_session(mine.stripe_session_id)
        assert gateway.retrieve_checkout_session(theirs.stripe_session_id)["status"] == "open"
    assert session_email(app, session) == "ada@example.com"
    assert session["amount_total"] == mine.total_cents != theirs.total_cents
    # Eve's next click still resumes her own session.
    assert session_url(checkout(eve["client"])) == eve["url"]


# --- My Orders -------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_my_orders_show_nothing_of_theirs(app, client, user, eve, seeded, htmx):
    add(client, seeded["MUG-STONE"], 2)
    checkout(client)
    [mine] = orders(app, user)
    html = client.get("/orders", headers=HTMX if htmx else {}).get_data(as_text=True)
    body = html.split('id="orders-body"')[1].split("</dialog>")[0] if not htmx else html
    assert f'data-order-id="{mine.id}"' in body
    assert body.count("data-order-id=") == 1
    for secret in secrets_of(app, eve):
        assert secret not in body
    assert EVE not in html


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_their_order_detail_is_the_404_of_a_made_up_one(app, client, user, eve, htmx):
    headers = HTMX if htmx else {}
    theirs = client.get(f"/orders/{eve['order'].id}", headers=headers)
    made_up = client.get("/orders/999999", headers=headers)
    assert theirs.status_code == made_up.status_code == 404
    html = theirs.get_data(as_text=True)
    assert without_tokens(html) == without_tokens(made_up.get_data(as_text=True))
    for secret in secrets_of(app, eve):
        assert secret not in html
    assert eve["client"].get(f"/orders/{eve['order'].id}").status_code == 200


def test_their_hosted_checkout_page_needs_the_unguessable_session_id(app, client, user, eve):
    """The emulator's page is public, as Stripe's is: only the secret session id opens it."""
    session_id = eve["order"].stripe_session_id
    assert len(session_id.removeprefix("cs_test_")) >= 24
    for guess in (session_id[:-1], session_id.upper(), "cs_test_1", str(eve["order"].id)):
        response = client.get(f"/emulator/checkout/{guess}")
        assert response.status_code == 404
        for secret in secrets_of(app, eve):
            assert secret not in response.get_data(as_text=True)


def test_csrf_tokens_are_per_session(app, client, user, eve):
    """Eve's token does not authorise Ada's requests (nor the reverse)."""
    token = csrf_token(eve["client"])
    response = client.post("/checkout", headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Order.id).where(Order.user_id == user)) is None
