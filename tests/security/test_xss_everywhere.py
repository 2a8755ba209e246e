"""Script injection through the catalogue and the account: shown as text everywhere.

An admin loads product names and descriptions written by an attacker with `flask seed
--file`; a customer with an address full of markup shops them. Every place the text comes
back (the grid, a card's note, the cart modal, the flash after a plain add, the emulator's
hosted page, My Orders from the order's snapshot, the success page) shows it escaped, and
the JSON answers are served as JSON that no browser will sniff into HTML.
"""

import json

import pytest
from cart_helpers import HTMX
from markupsafe import escape
from sqlalchemy import select

from checkout_helpers import session_url
from conftest import csrf_token
from shop.catalog.models import Product
from shop.extensions import db

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}",
]
DESCRIPTIONS = [
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(2)</script>",
    "{% print 7*7 %}",
]
#: Valid enough for the database and for Stripe's customer_email, full of markup.
EMAIL = "<svg/onload=alert(3)>@example.com"
#: What may never appear raw in HTML we serve.
MARKUP = ["<script>alert", "<img src=x", "<svg onload", "<svg/onload", "'><svg", 'onerror="alert']


def assert_shown_as_text(html: str, *texts: str):
    """Each text appears escaped (so the customer reads it) and no markup got through.

    `{{7*7}}` showing as itself is the proof that no template evaluated it.
    """
    for text in texts:
        assert str(escape(text)) in html, text
    for markup in MARKUP:
        assert markup not in html


@pytest.fixture
def hostile(app, runner, tmp_path) -> dict[int, str]:
    """The attacker's products, loaded as an admin would: product id -> name."""
    entries = [
        {
            "sku": f"EVIL-{n}",
            "name": name,
            "description": description,
            "price_cents": 1000 + n,
            "currency": "usd",
            "image": 'x" onerror="alert(1)',
        }
        for n, (name, description) in enumerate(zip(PAYLOADS, DESCRIPTIONS, strict=True))
    ]
    path = tmp_path / "products.json"
    path.write_text(json.dumps(entries))
    result = runner.invoke(args=["seed", "--file", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        return dict(db.session.execute(select(Product.id, Product.name)).all())


@pytest.fixture
def customer(app, auth, client, hostile):
    """The hostile customer, signed in on `client`."""
    auth.create_user(EMAIL)
    assert auth.login(EMAIL).status_code == 302
    return client


def add_all(client, hostile, htmx=True):
    """Add each hostile product once; the answers, in order."""
    token = csrf_token(client)
    return [
        client.post(
            "/cart/items",
            data={"product_id": product_id, "csrf_token": token},
            headers=HTMX if htmx else {},
        )
        for product_id in hostile
    ]


def check_out_and_pay(client):
    """Check out, pay on the hosted page as a browser would; the success page response."""
    token = csrf_token(client)
    page = session_url(client.post("/checkout", data={"csrf_token": token}))
    path = page.removeprefix("http://localhost")
    paid = client.post(path, data={"card_number": "4242 4242 4242 4242", "csrf_token": token})
    assert paid.status_code == 303
    return path, client.get(paid.headers["Location"].removeprefix("http://localhost"))


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_grid_shows_the_names_and_descriptions_as_text(customer, hostile, htmx):
    html = customer.get("/?q=", headers=HTMX if htmx else {}).get_data(as_text=True)
    assert_shown_as_text(html, *PAYLOADS, *DESCRIPTIONS)  # the image path stays in src too


def test_the_cards_add_note_fragment_escapes_the_name(customer, hostile):
    for response, name in zip(add_all(customer, hostile), hostile.values(), strict=True):
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<html" not in html
        assert_shown_as_text(html, name)


def test_the_flash_after_a_plain_add_escapes_the_name(customer, hostile):
    token = csrf_token(customer)
    for product_id, name in hostile.items():
        response = customer.post(
            "/cart/items", data={"product_id": product_id, "csrf_token": token}
        )
        assert response.status_code == 303
        page = customer.get(response.headers["Location"]).get_data(as_text=True)
        flashes = page.split('class="flashes"')[1].split("</div>")[0]
        assert_shown_as_text(flashes, name)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_cart_modal_escapes_names_everywhere_they_appear(customer, hostile, htmx):
    add_all(customer, hostile)
    html = customer.get("/cart", headers=HTMX if htmx else {}).get_data(as_text=True)
    assert_shown_as_text(html, *hostile.values())
    for name in hostile.values():  # labels and aria-labels too
        assert f"Remove {escape(name)}" in html and f"Quantity of {escape(name)}" in html


def test_the_hosted_checkout_page_escapes_line_names_and_the_email(customer, hostile):
    add_all(customer, hostile)
    token = csrf_token(customer)
    page = session_url(customer.post("/checkout", data={"csrf_token": token}))
    response = customer.get(page.removeprefix("http://localhost"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_shown_as_text(html, *hostile.values(), EMAIL)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_my_orders_escape_the_snapshot_names(customer, hostile, htmx):
    add_all(customer, hostile)
    _, success = check_out_and_pay(customer)
    assert success.status_code == 200
    assert_shown_as_text(success.get_data(as_text=True), *hostile.values())
    html = customer.get("/orders", headers=HTMX if htmx else {}).get_data(as_text=True)
    orders = html.split('id="orders-body"')[1] if not htmx else html
    assert_shown_as_text(orders, *hostile.values())


def test_a_completed_hosted_page_still_escapes_everything(customer, hostile):
    add_all(customer, hostile)
    path, _ = check_out_and_pay(customer)
    html = customer.get(path).get_data(as_text=True)
    assert "checkout is complete" in html
    assert_shown_as_text(html, *hostile.values(), EMAIL)


def test_json_answers_carrying_the_names_are_never_sniffed_as_html(app, customer, hostile):
    """The Stripe API and the webhook answer in JSON; the names there are data, not markup."""
    add_all(customer, hostile)
    page = session_url(customer.post("/checkout", data={"csrf_token": csrf_token(customer)}))
    session_id = page.rsplit("/", 1)[1]
    api = customer.get(
        f"/emulator/stripe/v1/checkout/sessions/{session_id}?expand[]=line_items",
        headers={"Authorization": "Bearer sk_test_emulator"},
    )
    assert api.status_code == 200
    names = [line["description"] for line in api.get_json()["line_items"]["data"]]
    assert names == list(hostile.values())
    for response in (api, customer.post("/stripe/webhook", data=json.dumps(names))):
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in customer.post("/stripe/webhook", data="<script>").get_data(
        as_text=True
    )
