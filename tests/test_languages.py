"""English and German: how the language is chosen (POST /language, the account, the
session, Accept-Language, English), and what follows it: the page's words and `<html lang>`,
money and dates as Babel writes them, product names and search, the customer's emails,
Stripe's page, and no extra query on the shop page."""

import re

import pytest
from sqlalchemy import select

from checkout_helpers import add, checkout, orders, pay, session_url
from conftest import count_queries, csrf_token
from shop.auth.models import User
from shop.extensions import db
from shop.notifications import messages
from shop.notifications.models import OutboxMessage
from shop.payments.emulator.models import EmulatorSession

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def lang_of(response) -> str:
    return re.search(r'<html lang="(\w+)"', response.get_data(as_text=True)).group(1)


def choose(client, language: str, **headers):
    return client.post("/language", data={"language": language, "csrf_token": csrf_token(client)},
                       headers=headers)  # fmt: skip


# --- choosing ----------------------------------------------------------------------------


def test_english_without_a_choice_german_for_a_german_browser(client, seeded):
    assert lang_of(client.get("/")) == "en"
    page = client.get("/", headers=GERMAN)
    assert lang_of(page) == "de"
    assert "Kaffeebohnen und Zubehör" in page.get_data(as_text=True)
    assert lang_of(client.get("/", headers={"Accept-Language": "fr-FR,fr"})) == "en"


def test_the_switch_is_kept_in_the_session_and_wins_over_the_browser(client, seeded):
    response = choose(client, "de", Referer="http://localhost/?q=kaffee")
    assert response.status_code == 303 and response.headers["Location"].endswith("/?q=kaffee")
    assert lang_of(client.get("/")) == "de"
    choose(client, "en")
    assert lang_of(client.get("/", headers=GERMAN)) == "en"


def test_a_customer_s_choice_is_on_the_account_and_follows_them(app, client, user, auth):
    choose(client, "DE")
    with app.app_context():
        assert db.session.get(User, user).language == "de"
    auth.logout()
    other_device = app.test_client()
    from cart_helpers import login_client

    other_device = login_client(app)
    assert lang_of(other_device.get("/", headers={"Accept-Language": "en"})) == "de"


@pytest.mark.parametrize("value", ["fr", "", "deutsch", "de-AT", "x" * 40])
def test_a_language_the_shop_does_not_speak_is_422_and_changes_nothing(client, seeded, value):
    response = choose(client, value)
    assert response.status_code == 422
    assert "English (en) or Deutsch (de)" in response.get_data(as_text=True)
    assert lang_of(client.get("/")) == "en"


def test_the_switch_needs_its_csrf_token(client, seeded):
    assert client.post("/language", data={"language": "de"}).status_code == 400


def test_htmx_is_sent_to_reload_the_page(client, seeded):
    response = choose(client, "de", **{"HX-Request": "true", "Referer": "http://localhost/"})
    assert response.headers["HX-Redirect"] == "/"


# --- what follows the language -------------------------------------------------------


def test_macros_speak_the_language_of_each_page_not_of_the_first(client, seeded):
    # The card's add form is a macro of an imported template (its module is kept between
    # renders): its words must follow each request, English then German then English.
    label = re.compile(r'<label class="visually-hidden" for="qty-\d+">(\w+)')
    for language, word in (("en", "Quantity"), ("de", "Menge"), ("en", "Quantity")):
        page = client.get("/", headers={"Accept-Language": language}).get_data(as_text=True)
        assert set(label.findall(page)) == {word}, language


def test_money_and_plurals_are_written_for_the_language(client, seeded):
    choose(client, "de")
    assert "1 Ergebnis für „kaffeewaage“" in client.get("/?q=kaffeewaage").get_data(as_text=True)
    assert "Ergebnisse für „röstung“" in client.get("/?q=röstung").get_data(as_text=True)
    html = client.get("/").get_data(as_text=True)
    assert "14,50\u00a0$" in html  # Babel's German: the amount, a no-break space, the sign
    client.post("/currency", data={"currency": "eur", "csrf_token": csrf_token(client)})
    assert "13,50\u00a0€" in client.get("/").get_data(as_text=True)
    choose(client, "en")
    assert "€13.50" in client.get("/").get_data(as_text=True)


def test_product_names_and_search_follow_the_language(client, seeded):
    english = client.get("/?q=scale").get_data(as_text=True)
    assert "Coffee Scale with Timer" in english
    assert "Kaffeewaage" not in client.get("/?q=kaffeewaage").get_data(as_text=True)
    choose(client, "de")
    german = client.get("/?q=kaffeewaage").get_data(as_text=True)
    assert "Kaffeewaage mit Timer" in german and 'data-sku="GEAR-SCALE"' in german
    page = client.get("/products/GEAR-SCALE").get_data(as_text=True)
    assert "<h1" in page and "Kaffeewaage mit Timer" in page and "0,1 g" in page


def test_the_language_adds_no_query_to_the_shop_page(app, client, user, seeded):
    client.get("/")
    with count_queries(app) as english:
        client.get("/")
    choose(client, "de")
    client.get("/")
    with count_queries(app) as german:
        client.get("/")
    assert len(german) == len(english) == 2


def test_my_orders_and_the_cart_speak_german(app, client, user, seeded):
    choose(client, "de")
    add(client, seeded["BEAN-ETH-250"], 3)
    cart = client.get("/cart").get_data(as_text=True)
    assert "Ihr Warenkorb" in cart and "Äthiopien Yirgacheffe" in cart and "Zur Kasse" in cart
    checkout(client)
    [order] = orders(app)
    assert [item.name for item in order.items] == ["Äthiopien Yirgacheffe, 250 g"]
    assert order.language == "de"
    listing = client.get("/orders").get_data(as_text=True)
    assert "Wartet auf Zahlung" in listing and "Bestellung Nr." in listing


def test_stripe_s_page_gets_the_customer_s_locale_and_speaks_it(app, client, user, seeded):
    choose(client, "de")
    add(client, seeded["MUG-STONE"])
    url = session_url(checkout(client))
    with app.app_context():
        session = db.session.scalar(select(EmulatorSession))
        assert session.locale == "de"
    page = client.get(url.replace("http://localhost", ""), headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert lang_of(page) == "de" and "Kartennummer" in html and "bezahlen" in html


def test_a_customer_s_emails_are_in_the_language_on_their_account(app, client, user, seeded):
    choose(client, "de")
    add(client, seeded["BEAN-ETH-250"], 2)
    session_id = session_url(checkout(client)).rsplit("/", 1)[-1]
    pay(app, session_id)
    with app.app_context():
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "receipt"))
        assert row.context["language"] == "de"
        outgoing = messages.Outgoing(
            row.id, row.kind, row.recipient, row.context, row.message_id, row.created_at,
            row.order_id, row.attempts, "test",
        )  # fmt: skip
        email = messages.render(outgoing)
    assert email["Subject"].startswith("Ihre Quittung für Bestellung Nr.")
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert "Vielen Dank für Ihre Bestellung" in text and "29,00\u00a0$" in text
    assert '<html lang="de">' in html and "Bezahlt insgesamt" in html
    assert re.search(r"bezahlt am \d{1,2}\. \w+ \d{4}", text)  # "6. Dezember 2026"


def test_an_english_customer_still_gets_english_emails(app, client, user, seeded):
    add(client, seeded["BEAN-ETH-250"])
    pay(app, session_url(checkout(client)).rsplit("/", 1)[-1])
    with app.app_context():
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "receipt"))
        outgoing = messages.Outgoing(
            row.id, row.kind, row.recipient, row.context, row.message_id, row.created_at,
            row.order_id, row.attempts, "test",
        )  # fmt: skip
        assert messages.render(outgoing)["Subject"].startswith("Your receipt for order #")


def test_form_errors_and_flashes_speak_german(client, seeded):
    choose(client, "de")
    page = client.post("/login", data={"email": "", "password": "",
                                       "csrf_token": csrf_token(client, "/login")})  # fmt: skip
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "Geben Sie Ihre E-Mail-Adresse ein." in html


def test_error_pages_speak_german(client, seeded):
    choose(client, "de")
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "Diese Seite oder diesen Artikel gibt es nicht." in (
        page.get_data(as_text=True)
    )


def test_an_account_email_is_written_in_the_account_s_language(app, client, user):
    from shop.auth import notices

    choose(client, "de")
    with app.app_context():
        account = db.session.get(User, user)
        notice = notices.reset_link(account, "https://shop.example/reset/x", "t1", 30)
        english = notices.reset_link(
            User(id=99, email="en@example.com", language=None), "https://x", "t2", 30
        )
    assert notice.language == "de" and notice.subject.startswith("Setzen Sie Ihr")
    assert "30 Minuten lang" in notice.paragraphs[1]
    assert english.subject == "Reset your Northside Roastery password"
