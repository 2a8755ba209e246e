"""Views marked `reads_only` run their reads outside a transaction on PostgreSQL (no BEGIN
and ROLLBACK round trips), and cannot write there; SQLite is left as it is."""

import pytest
from sqlalchemy import select, text, update

from shop.catalog.models import Product
from shop.extensions import WriteInReadOnlyView, db, reads_only


@pytest.fixture
def probe_app(app):
    """The app with two probe views: one reading, one (wrongly) writing."""

    @reads_only
    def reading():
        level = db.session.connection().get_execution_options().get("isolation_level")
        count = db.session.scalar(select(db.func.count()).select_from(Product))
        return {"level": level, "count": count}

    @reads_only
    def writing():
        db.session.execute(update(Product).values(name="written"))
        db.session.commit()
        return "wrote"

    app.add_url_rule("/probe/read", "probe_read", reading)
    app.add_url_rule("/probe/write", "probe_write", writing)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    return app


def postgres(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_a_read_only_view_reads_without_a_transaction_on_postgresql(probe_app, seeded):
    answer = probe_app.test_client().get("/probe/read").get_json()
    assert answer["count"] == len(seeded)
    assert answer["level"] == ("AUTOCOMMIT" if postgres(probe_app) else None)


def test_a_read_only_view_cannot_write_on_postgresql(probe_app, seeded):
    client = probe_app.test_client()
    if not postgres(probe_app):
        assert client.get("/probe/write").get_data(as_text=True) == "wrote"
        return
    with pytest.raises(WriteInReadOnlyView):
        client.get("/probe/write")
    with probe_app.app_context():
        assert "written" not in set(db.session.scalars(select(Product.name)))


def test_the_next_request_on_the_same_connection_has_its_transaction_again(probe_app, seeded):
    client = probe_app.test_client()
    client.get("/probe/read")
    with probe_app.app_context():
        # A pooled connection handed back after a read-only view is transactional again.
        connection = db.session.connection()
        assert connection.get_execution_options().get("isolation_level") is None
        if postgres(probe_app):
            assert connection.connection.dbapi_connection.autocommit is False
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
