"""`flask seed`, `flask create-admin` and the demo accounts."""

import json

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

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
    before = {sku: (p.updated_at, p.price_cents) for sku, p in products(app).items()}
    second = runner.invoke(args=["seed"])
    assert "added: 0" in second.output and "updated: 0" in second.output
    assert f"unchanged: {count}" in second.output
    after = {sku: (p.updated_at, p.price_cents) for sku, p in products(app).items()}
    assert before == after


def test_seed_updates_changed_prices_and_deactivates_dropped_products(app, runner, tmp_path):
    entries = json.loads(SEED_FILE.read_text())
    runner.invoke(args=["seed"])
    entries[0]["price_cents"] += 100
    dropped = entries.pop()
    result = runner.invoke(args=["seed", "--file", write_seed(tmp_path, entries)])
    assert result.exit_code == 0, result.output
    assert f"updated: 1 ({entries[0]['sku']})" in result.output
    assert f"deactivated: 1 ({dropped['sku']})" in result.output
    stored = products(app)
    assert stored[entries[0]["sku"]].price_cents == entries[0]["price_cents"]
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
