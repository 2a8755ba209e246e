"""The bench's and the rehearsal's settings, built without running either (both are run by
hand, not by `make test`: a broken call between them would otherwise go unnoticed)."""

from bench.__main__ import SQLITE_URL, databases, server_env
from bench.rehearsal.stack import environment


def test_the_bench_runs_sqlite_then_postgresql_when_a_server_is_named():
    assert databases({}) == [SQLITE_URL]
    assert databases({"DATABASE_URL": "sqlite:////tmp/x.db"}) == ["sqlite:////tmp/x.db"]
    given = "postgresql://postgres@db.example:5432/shop"
    assert databases({"DATABASE_URL": given}) == [SQLITE_URL, given]


def test_the_bench_servers_get_production_settings_on_the_run_s_database():
    env = server_env({"FLASK_DEBUG": "1", "STRIPE_SECRET_KEY": "sk_live_x"}, SQLITE_URL)
    assert env["DATABASE_URL"] == SQLITE_URL
    assert "FLASK_DEBUG" not in env and "STRIPE_SECRET_KEY" not in env
    assert env["STRIPE_EMULATOR"] == "1" and len(env["SECRET_KEY"]) == 64


def test_the_rehearsal_builds_on_the_bench_settings():
    env = environment("postgresql://postgres@127.0.0.1/rehearsal", "redis://r", "smtp://m", 8000)
    assert env["DATABASE_URL"] == "postgresql://postgres@127.0.0.1/rehearsal"
    assert env["PUBLIC_URL"] == "https://127.0.0.1:8000"
    assert env["STRIPE_EMULATOR"] == "1"
