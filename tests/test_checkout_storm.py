"""A click storm on the embedded default: many parallel `POST /checkout` from one customer on
the threaded server `make run` and the browser tests use (SQLite, the in-process emulator,
the default pool of 5 + 10 connections). Every answer is a redirect to one session.

tests/postgres/test_threaded_checkout.py makes the same proof under gunicorn with threads.
"""

import re
from collections import Counter

import flask_migrate
import pytest
import requests
from postgres.shop_server import together
from sqlalchemy import func, select, text

from conftest import FAST_HASH, PASSWORD, app_config, scratch_database, serve
from shop import create_app
from shop.auth import services as auth_services
from shop.catalog import services as catalog
from shop.catalog.models import Product
from shop.config import engine_options
from shop.extensions import db
from shop.orders.models import Order

CLICKS = 50
ROUNDS = 5


@pytest.fixture
def make_run_app(tmp_path):
    """The shop as `make run` builds it: SQLite file, emulator, the default pool sizes."""
    with scratch_database("storm", tmp_path, backend="sqlite") as url:
        app = create_app(
            app_config(
                url,
                SQLALCHEMY_ENGINE_OPTIONS=engine_options(url, {}),
                CHECKOUT_RATE_LIMIT="10000 per minute",
            )
        )
        with app.app_context():
            flask_migrate.upgrade()
            catalog.seed_products(catalog.read_seed_file())
            auth_services.register_user("storm@example.com", PASSWORD, FAST_HASH)
        yield app
        with app.app_context():
            db.engine.dispose()


def token_of(page: str) -> str:
    """The CSRF token of a page."""
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def open_sessions(app) -> int:
    """Checkout Sessions the emulator holds open."""
    with app.app_context():
        return db.session.scalar(
            text("SELECT count(*) FROM emulator_checkout_sessions WHERE status = 'open'")
        )


def test_fifty_parallel_checkouts_on_the_threaded_server_never_fail(make_run_app):
    app = make_run_app
    with app.app_context():
        ids = list(db.session.scalars(select(Product.id).order_by(Product.id).limit(3)))
    with serve(app) as base:
        browser = requests.Session()
        login = browser.get(base + "/login").text
        signed_in = browser.post(
            base + "/login",
            data={
                "email": "storm@example.com",
                "password": PASSWORD,
                "csrf_token": token_of(login),
            },
            allow_redirects=False,
        )
        assert signed_in.status_code == 302
        token = token_of(browser.get(base + "/").text)
        htmx = {"HX-Request": "true", "X-CSRFToken": token}
        for product_id in ids[:2]:
            browser.post(base + "/cart/items", data={"product_id": product_id}, headers=htmx)

        for round_ in range(ROUNDS):
            answers, seconds = together(
                CLICKS,
                lambda _: browser.post(
                    base + "/checkout", headers=htmx, allow_redirects=False, timeout=60
                ),
            )
            statuses = Counter(answer.status_code for answer in answers)
            urls = {answer.headers.get("HX-Redirect") for answer in answers}
            print(
                f"\nround {round_ + 1}: {CLICKS} parallel POST /checkout in {seconds:.2f}s: "
                f"{dict(statuses)}, {len(urls)} distinct redirect, {open_sessions(app)} open"
            )
            assert statuses == {200: CLICKS}
            assert len(urls) == 1 and None not in urls
            assert open_sessions(app) == 1
            # A changed cart makes the next round replace the session rather than resume it.
            browser.post(base + "/cart/items", data={"product_id": ids[round_ % 3]}, headers=htmx)
    with app.app_context():
        pending = db.session.scalar(
            select(func.count()).select_from(Order).where(Order.status == "pending")
        )
    assert pending == 1


def test_a_pool_timeout_answers_503_with_retry_after(tmp_path):
    with scratch_database("pool", tmp_path, backend="sqlite") as url:
        options = {**engine_options(url, {}), "pool_size": 1, "max_overflow": 0, "pool_timeout": 1}
        app = create_app(
            app_config(url, SQLALCHEMY_ENGINE_OPTIONS=options, PROPAGATE_EXCEPTIONS=False)
        )
        with app.app_context():
            flask_migrate.upgrade()
            held = db.engine.connect()  # the pool's only connection, busy elsewhere
            try:
                page = app.test_client().get("/healthz")
                assert page.status_code == 503  # /healthz says so in its own words
                answer = app.test_client().get("/")
                fragment = app.test_client().get("/", headers={"HX-Request": "true"})
            finally:
                held.close()
            db.engine.dispose()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"].isdigit()
    assert "briefly unavailable" in answer.get_data(as_text=True)
    assert fragment.status_code == 503 and fragment.headers["HX-Retarget"] == "#toasts"
