"""`flask seed`, `flask create-admin` and the demo accounts."""

import json
import socket
import threading

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash
from werkzeug.serving import make_server

from shop.auth.models import User
from shop.catalog.models import Product
from shop.catalog.services import SEED_FILE
from shop.extensions import db


def products(app) -> dict[str, Product]:
    with app.app_context():
        return {p.sku: p for p in db.session.scalars(select(Product))}


def write_seed(tmp_path, entries) -> str:
    path = tmp_path / "products.json"
    path.write_text(json.dumps(entries))
    return str(path)


def test_seed_loads_the_catalogue_and_twice_changes_nothing(app, runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    count = len(json.loads(SEED_FILE.read_text()))
    assert f"added: {count}" in first.output
    before = {sku: (p.updated_at, p.price_in("usd")) for sku, p in products(app).items()}
    second = runner.invoke(args=["seed"])
    assert "added: 0" in second.output and "updated: 0" in second.output
    assert f"unchanged: {count}" in second.output
    after = {sku: (p.updated_at, p.price_in("usd")) for sku, p in products(app).items()}
    assert before == after


def test_seed_updates_changed_prices_and_deactivates_dropped_products(app, runner, tmp_path):
    entries = json.loads(SEED_FILE.read_text())
    runner.invoke(args=["seed"])
    entries[0]["prices"]["eur"] += 100
    dropped = entries.pop()
    result = runner.invoke(args=["seed", "--file", write_seed(tmp_path, entries)])
    assert result.exit_code == 0, result.output
    assert f"updated: 1 ({entries[0]['sku']})" in result.output
    assert f"deactivated: 1 ({dropped['sku']})" in result.output
    stored = products(app)
    assert stored[entries[0]["sku"]].price_in("eur") == entries[0]["prices"]["eur"]
    assert stored[dropped["sku"]].active is False  # kept: orders will point at it
    # Back in the file, it comes back.
    result = runner.invoke(args=["seed", "--file", write_seed(tmp_path, [*entries, dropped])])
    assert f"updated: 1 ({dropped['sku']})" in result.output
    assert products(app)[dropped["sku"]].active is True


def test_a_malformed_seed_file_writes_nothing(app, runner, tmp_path):
    good = {"sku": "A", "name": "A thing", "price_cents": 100}
    bad = {"sku": "B", "name": "B thing", "price_cents": "12.50"}
    result = runner.invoke(args=["seed", "--file", write_seed(tmp_path, [good, bad])])
    assert result.exit_code != 0
    assert "price_cents" in result.output
    assert products(app) == {}


def test_a_missing_seed_file_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["seed", "--file", str(tmp_path / "nope.json")])
    assert result.exit_code != 0 and "cannot read" in result.output


def test_create_admin_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["create-admin", "Boss@Example.com"], input="s3cret-admin-pw\n")
    assert result.exit_code == 0, result.output
    assert "created admin boss@example.com" in result.output
    with app.app_context():
        admin = db.session.scalar(select(User))
        assert admin.is_admin and check_password_hash(admin.password_hash, "s3cret-admin-pw")


def test_create_admin_promotes_an_existing_customer(app, auth, runner):
    auth.create_user("ada@example.com")
    result = runner.invoke(args=["create-admin", "ada@example.com"], input="\n")
    assert result.exit_code == 0 and "promoted admin" in result.output
    with app.app_context():
        assert db.session.scalar(select(User.is_admin))
    assert auth.login().status_code == 302  # the old password still works


def test_create_admin_refuses_a_short_password_and_a_bad_email(app, runner):
    assert runner.invoke(args=["create-admin", "a@example.com"], input="short\n").exit_code != 0
    assert runner.invoke(args=["create-admin", "not-an-email"], input="longenough\n").exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_demo_user_can_log_in(runner, auth):
    result = runner.invoke(args=["demo-user"])
    assert "demo@example.com" in result.output
    assert auth.login("demo@example.com", "demo-password").status_code == 302


def test_demo_admin_can_log_in_and_open_the_admin_area(runner, auth, client):
    for _ in range(2):  # make run does it at every start
        result = runner.invoke(args=["demo-admin"])
        assert result.exit_code == 0
    assert "Demo admin: admin@example.com / password: admin-password" in result.output
    assert auth.login("admin@example.com", "admin-password").status_code == 302
    assert client.get("/admin").status_code == 200


@pytest.mark.parametrize("command", ["demo-user", "demo-admin"])
def test_demo_accounts_are_refused_in_production(app, runner, command):
    app.config["PRODUCTION"] = True
    result = runner.invoke(args=[command])
    assert result.exit_code != 0 and "for development only" in result.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None


@pytest.mark.parametrize(
    ("command", "email", "password"),
    [
        ("demo-user", "demo@example.com", "demo-password"),
        ("demo-admin", "admin@example.com", "admin-password"),
    ],
)
def test_make_run_makes_the_demo_accounts_quietly(runner, auth, command, email, password):
    result = runner.invoke(args=[command, "--quiet"])
    assert result.exit_code == 0 and result.output == ""
    assert auth.login(email, password).status_code == 302


def test_demo_ready_waits_for_the_shop_then_prints_how_to_try_it(app, runner, migrated):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    started = threading.Timer(0.5, server.serve_forever)  # the shop comes up a little later
    started.start()
    try:
        result = runner.invoke(args=["demo-ready", "--url", url, "--wait", "10"])
    finally:
        server.shutdown()
        started.join()
    assert result.exit_code == 0, result.output
    # The shop's own request log line for /healthz goes to the same stdout: leave it out.
    lines = [line for line in result.output.splitlines() if not line.startswith("ts=")]
    assert lines[0] == lines[-1] and set(lines[0]) == {"-"}
    assert lines[1] == f"Northside Roastery is running at {url}/"
    assert "Customer   demo@example.com / demo-password" in result.output
    assert f"Admin      admin@example.com / admin-password  ({url}/admin)" in result.output
    assert "4242 4242 4242 4242" in result.output
    assert "Code       WELCOME10 (10% off; type it in the cart)" in result.output
    assert "Currencies USD, EUR (switch in the header)" in result.output
    assert f"written as .eml files to {app.config['MAIL_DIRECTORY']}" in result.output


def test_make_run_makes_the_demo_code_once_and_it_works_in_the_cart(app, runner, admin):
    for _ in range(2):  # make run again: the code is there already
        result = runner.invoke(args=["demo-code", "--quiet"])
        assert result.exit_code == 0 and result.output == "", result.output
    page = admin.client.get("/admin/promotions").get_data(as_text=True)
    assert page.count('data-code="WELCOME10"') == 1 and "10% off" in page
    assert runner.invoke(args=["demo-code"]).output.startswith("Demo code: WELCOME10")
    app.config["PRODUCTION"] = True
    refused = runner.invoke(args=["demo-code"])
    assert refused.exit_code != 0 and "for development only" in refused.output


def test_demo_ready_gives_up_when_the_shop_never_answers(runner):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = runner.invoke(
        args=["demo-ready", "--url", f"http://127.0.0.1:{port}", "--wait", "0.5"]
    )
    assert result.exit_code != 0
    assert f"the shop did not answer at http://127.0.0.1:{port} within 0.5 s" in result.output


def test_demo_ready_is_refused_in_production(app, runner):
    app.config["PRODUCTION"] = True
    result = runner.invoke(args=["demo-ready", "--wait", "0"])
    assert result.exit_code != 0 and "for development only" in result.output


def test_the_old_single_price_still_loads_and_a_missing_currency_is_reported(app, runner, tmp_path):
    old = {"sku": "OLD", "name": "Old beans", "price_cents": 900, "currency": "USD"}
    both = {"sku": "BOTH", "name": "Both", "prices": {"usd": 1250, "EUR": 1150}}
    result = runner.invoke(args=["seed", "--file", write_seed(tmp_path, [old, both])])
    assert result.exit_code == 0, result.output
    assert "added: 2" in result.output
    assert (
        "warning: OLD has no price in EUR: it is shown to customers shopping in EUR, "
        "but cannot be bought in it"
    ) in result.output
    assert "BOTH has no price" not in result.output
    stored = products(app)
    assert {code: p.price_cents for code, p in stored["OLD"].prices.items()} == {"usd": 900}
    assert {code: p.price_cents for code, p in stored["BOTH"].prices.items()} == {
        "usd": 1250,
        "eur": 1150,
    }


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ({"prices": {}}, "'prices' must map currencies to prices"),
        ({"prices": {"usd": 12.5}}, "'prices.usd' must be a whole number"),
        ({"prices": {"dollars": 100}}, "'dollars' is not a 3-letter ISO currency code"),
        ({"prices": {"usd": 100, "USD": 200}}, "usd is priced twice"),
        ({"prices": {"usd": 100}, "price_cents": 100}, "not both"),
        ({"price_cents": -1}, "'price_cents' must be a whole number"),
        ({}, "'prices' must map currencies to prices"),
    ],
)
def test_bad_prices_stop_the_seed_naming_the_field(app, runner, tmp_path, entry, said):
    result = runner.invoke(
        args=["seed", "--file", write_seed(tmp_path, [{"sku": "X", "name": "X", **entry}])]
    )
    assert result.exit_code != 0
    assert said in result.output
    assert products(app) == {}
