"""The committed migrations build exactly the schema the models describe, and undo it."""

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from conftest import app_config, scratch_database
from shop import create_app
from shop.extensions import db


def drift(connection) -> list:
    """What autogenerate would write to turn the database into the models (empty: none)."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def test_models_and_migrations_do_not_drift(app):
    with app.app_context(), db.engine.connect() as conn:
        diff = drift(conn)
    assert diff == [], f"models differ from migrations; run `flask db migrate`: {diff}"


def leftovers(connection) -> dict[str, list[str]]:
    """What a downgrade to base left behind, besides Alembic's own version table."""
    inspector = inspect(connection)
    found = {"tables": sorted(set(inspector.get_table_names()) - {"alembic_version"})}
    if connection.dialect.name == "postgresql":
        found["sequences"] = inspector.get_sequence_names()
        found["types"] = list(
            connection.scalars(
                text(
                    "SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')"
                )
            )
        )
    return found


# Both backends in every run that can reach them: SQLite always, PostgreSQL with
# TEST_DATABASE_URL (skipped otherwise). Each gets a scratch database of its own, never the
# run's shared one, since a downgrade drops every table.
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_downgrade_to_base_and_upgrade_again_without_drift(backend, tmp_path):
    with scratch_database("shop_migrations", tmp_path, backend) as url:
        app = create_app(app_config(url))
        with app.app_context():
            try:
                flask_migrate.upgrade()
                with db.engine.connect() as conn:
                    assert drift(conn) == [], "first upgrade from an empty database"
                    head = conn.scalar(text("SELECT version_num FROM alembic_version"))

                flask_migrate.downgrade(revision="base")
                with db.engine.connect() as conn:
                    assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 0
                    assert leftovers(conn) == {key: [] for key in leftovers(conn)}, (
                        "downgrade to base left objects behind"
                    )

                flask_migrate.upgrade()
                with db.engine.connect() as conn:
                    assert drift(conn) == [], "second upgrade after a full downgrade"
                    assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head
            finally:
                db.session.remove()
                db.engine.dispose()  # PostgreSQL cannot drop a database with open connections
