"""One gunicorn per test module, on a PostgreSQL database of its own (TEST_DATABASE_URL)."""

import pytest

from conftest import postgres_server_url, scratch_database

from .shop_server import prepare_database, start_server, stop_server


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A fresh, migrated and seeded PostgreSQL database for this module: (url, products)."""
    if postgres_server_url() is None:
        pytest.skip("multi-worker proofs need PostgreSQL: set TEST_DATABASE_URL")
    with scratch_database("shop_proof", tmp_path_factory.mktemp("db"), "postgresql") as url:
        yield url, prepare_database(url)


@pytest.fixture(scope="module")
def products(database) -> dict[str, int]:
    """The seeded catalogue: product ids by SKU."""
    return database[1]


@pytest.fixture(scope="module")
def server(request, database, tmp_path_factory):
    """The shop under gunicorn with 4 workers on the module's database, with the module's
    SERVER_SETTINGS (environment variables) on top of production ones."""
    settings = getattr(request.module, "SERVER_SETTINGS", {})
    log = tmp_path_factory.mktemp("gunicorn") / "web.log"
    running = start_server(database[0], log, **settings)
    yield running
    stop_server(running)
