"""The committed migrations build exactly the schema the models describe, and undo it."""

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from conftest import migrating
from shop.extensions import db

#: A customer as any revision since 0001 stores one.
OLD_CUSTOMER = text(
    "INSERT INTO users (id, email, password_hash, is_admin, created_at, updated_at) VALUES "
    "(1, 'old@example.com', 'x', false, '2026-01-01 10:00:00', '2026-01-01 10:00:00')"
)

#: The same customer as revisions since 0011 store one (with its session token).
TOKENED_CUSTOMER = text(
    "INSERT INTO users (id, email, password_hash, is_admin, session_token, created_at, "
    "updated_at) VALUES (1, 'old@example.com', 'x', false, 't1', '2026-01-01 10:00:00', "
    "'2026-01-01 10:00:00')"
)
#: Order 1's "paid" timeline entry, as revisions since 0005 store one.
FIRST_ORDER_PAID = text(
    "INSERT INTO order_events (order_id, at, kind, source, note) VALUES "
    "(1, '2026-01-02 09:00:00', 'paid', 'webhook', '')"
)


def insert_product(conn, product_id: int, sku: str) -> None:
    """A product as every revision since 0001 stores one."""
    conn.execute(
        text(
            "INSERT INTO products (id, sku, name, description, price_cents, currency, image, "
            "active, created_at, updated_at) VALUES (:id, :sku, 'Old beans', '', 900, 'usd', "
            "'', true, '2026-01-01 10:00:00', '2026-01-01 10:00:00')"
        ),
        {"id": product_id, "sku": sku},
    )


def insert_order(conn, order_id: int, status: str, **columns: str) -> None:
    """An order of the old customer (`OLD_CUSTOMER`); `columns` adds the columns of the
    revision at hand, as SQL literals (paid_at, checkout_key, stock_hold...)."""
    names = "".join(f", {name}" for name in columns)
    values = "".join(f", {value}" for value in columns.values())
    conn.execute(
        text(
            "INSERT INTO orders (id, user_id, status, currency, total_cents, cart_fingerprint, "
            f"created_at, updated_at{names}) VALUES (:id, 1, :status, 'usd', 900, 'f', "
            f"'2026-01-02 08:00:00', '2026-01-02 09:30:00'{values})"
        ),
        {"id": order_id, "status": status},
    )


def insert_item(conn, order_id: int, product_id: int, quantity: int = 1) -> None:
    """A line of an order (the product's name as the line keeps it)."""
    conn.execute(
        text(
            "INSERT INTO order_items (order_id, product_id, name, unit_price_cents, quantity) "
            "VALUES (:order_id, :product_id, 'Old beans', 900, :quantity)"
        ),
        {"order_id": order_id, "product_id": product_id, "quantity": quantity},
    )


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
    with migrating("shop_migrations", tmp_path, backend):
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


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_existing_orders_survive_the_timeline_migration_both_ways(backend, tmp_path):
    with migrating("shop_migrate_data", tmp_path, backend):
        flask_migrate.upgrade(revision="0004")
        with db.engine.begin() as conn:
            conn.execute(OLD_CUSTOMER)
            insert_product(conn, 1, "OLD")
            for order_id, status, paid in ((1, "paid", "'2026-01-02 09:00:00'"),
                                           (2, "expired", "NULL"),
                                           (3, "pending", "NULL")):  # fmt: skip
                insert_order(conn, order_id, status, paid_at=paid)
                insert_item(conn, order_id, 1)

        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            keys = conn.scalars(text("SELECT checkout_key FROM orders ORDER BY id")).all()
            events = conn.execute(text(
                "SELECT order_id, kind, source, at FROM order_events ORDER BY order_id, id"
            )).all()  # fmt: skip
            items = conn.scalar(text("SELECT count(*) FROM order_items"))
        assert len(set(keys)) == 3 and all(len(key) == 32 for key in keys)
        assert [(e.order_id, e.kind, e.source) for e in events] == [
            (1, "created", "system"), (1, "paid", "system"),
            (2, "created", "system"), (2, "expired", "system"),
            (3, "created", "system"),
        ]  # fmt: skip
        assert str(events[1].at).startswith("2026-01-02 09:00")  # when it was paid
        assert items == 3

        with db.engine.begin() as conn:
            conn.execute(text("UPDATE orders SET status = 'partially_refunded' WHERE id = 1"))
        flask_migrate.downgrade(revision="0004")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status FROM orders ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [(1, "paid"), (2, "expired"), (3, "pending")]


#: The revision adding fulfilment, shipments and refunded_cents to orders.
SHIPPING = "0009"


def revision_before(revision: str) -> str:
    """The revision `revision` follows (so a test can start just before it)."""
    script = ScriptDirectory.from_config(flask_migrate.Migrate().get_config())
    return script.get_revision(revision).down_revision


def upgrade_to_just_before(revision: str) -> str:
    """Migrate the scratch database to the revision before `revision`, with the old
    customer in it (every data test's first row); that revision."""
    before = revision_before(revision)
    flask_migrate.upgrade(revision=before)
    with db.engine.begin() as conn:
        conn.execute(OLD_CUSTOMER)
    return before


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_existing_orders_become_unfulfilled_and_keep_their_rules(backend, tmp_path):
    with migrating("shop_migrate_ship", tmp_path, backend):
        before = upgrade_to_just_before(SHIPPING)
        with db.engine.begin() as conn:
            for order_id, status in ((1, "paid"), (2, "pending")):
                insert_order(
                    conn, order_id, status, checkout_key=f"'k{order_id}'", stock_hold="'none'"
                )

        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT id, status, fulfilment, refunded_cents, shipped_at, carrier, "
                "tracking_number FROM orders ORDER BY id"
            )).all()  # fmt: skip
        assert [tuple(row) for row in rows] == [
            (1, "paid", "unfulfilled", 0, None, None, None),
            (2, "pending", "unfulfilled", 0, None, None, None),
        ]
        # The table copy SQLite makes kept the old rules beside the new ones.
        for change in (
            "status = 'lost'",  # ck_orders_status_known
            "fulfilment = 'lost'",
            "fulfilment = 'shipped'",  # no date
            "refunded_cents = -1",
            "refunded_cents = 901",
        ):
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                conn.execute(text(f"UPDATE orders SET {change} WHERE id = 1"))
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # not paid
            conn.execute(text(
                "UPDATE orders SET fulfilment = 'shipped', shipped_at = updated_at "
                "WHERE id = 2"
            ))  # fmt: skip
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # one pending
            conn.execute(text("UPDATE orders SET status = 'pending' WHERE id = 1"))
        with db.engine.begin() as conn:
            conn.execute(text(
                "UPDATE orders SET fulfilment = 'shipped', shipped_at = updated_at, "
                "carrier = 'UPS', refunded_cents = 900, status = 'refunded' WHERE id = 1"
            ))  # fmt: skip

        flask_migrate.downgrade(revision=before)
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status FROM orders ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [(1, "refunded"), (2, "pending")]


#: The revision adding stock, holds and the products' hide switch.
STOCK = "0006"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_existing_pending_orders_hold_their_units_after_the_stock_migration(backend, tmp_path):
    with migrating("shop_migrate_stock", tmp_path, backend):
        before = upgrade_to_just_before(STOCK)
        with db.engine.begin() as conn:
            insert_product(conn, 1, "HELD")
            insert_product(conn, 2, "FREE")
            # A paid order of 2 × HELD and a pending one of 3 × HELD and 1 × FREE.
            for order_id, status, lines in ((1, "paid", ((1, 2),)),
                                            (2, "pending", ((1, 3), (2, 1)))):  # fmt: skip
                insert_order(conn, order_id, status, checkout_key=f"'k{order_id}'")
                for product_id, quantity in lines:
                    insert_item(conn, order_id, product_id, quantity)

        flask_migrate.upgrade(revision=STOCK)
        with db.engine.connect() as conn:
            holds = conn.execute(text("SELECT id, stock_hold FROM orders ORDER BY id"))
            products = conn.execute(
                text("SELECT sku, stock, reserved, hidden FROM products ORDER BY id")
            )
            assert [tuple(row) for row in holds] == [(1, "none"), (2, "held")]
            # Untracked until an admin sets a level; the pending order's units held.
            assert [tuple(row) for row in products] == [
                ("HELD", None, 3, False),
                ("FREE", None, 1, False),
            ]

        flask_migrate.downgrade(revision=before)
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status FROM orders ORDER BY id")).all()
            items = conn.scalar(text("SELECT count(*) FROM order_items"))
        assert [tuple(row) for row in rows] == [(1, "paid"), (2, "pending")]
        assert items == 3


#: The revision adding disputes beside the payment status.
DISPUTES = "0013"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_existing_orders_have_no_dispute_and_keep_their_figures(backend, tmp_path):
    with migrating("shop_migrate_disputes", tmp_path, backend):
        before = revision_before(DISPUTES)
        flask_migrate.upgrade(revision=before)
        with db.engine.begin() as conn:
            conn.execute(TOKENED_CUSTOMER)
            insert_order(
                conn,
                1,
                "partially_refunded",
                checkout_key="'k1'",
                stock_hold="'sold'",
                refunded_cents="300",
            )
            insert_order(conn, 2, "paid", checkout_key="'k2'", stock_hold="'sold'")

        flask_migrate.upgrade(revision=DISPUTES)
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, status, refunded_cents, dispute, dispute_lost_cents FROM orders "
                     "ORDER BY id")
            )  # fmt: skip
            assert [tuple(row) for row in rows] == [
                (1, "partially_refunded", 300, None, 0),
                (2, "paid", 0, None, 0),
            ]
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # more back than paid
            conn.execute(text("UPDATE orders SET dispute_lost_cents = 700 WHERE id = 1"))
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text("UPDATE orders SET dispute = 'maybe' WHERE id = 2"))
        with db.engine.begin() as conn:
            conn.execute(text(
                "UPDATE orders SET dispute = 'lost', dispute_lost_cents = 600 WHERE id = 1"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO disputes (order_id, stripe_dispute_id, amount_cents, currency, "
                "reason, status, created_at, updated_at) VALUES (1, 'dp_1', 600, 'usd', "
                "'fraudulent', 'lost', '2026-01-03 08:00:00', '2026-01-03 08:00:00')"
            ))  # fmt: skip

        flask_migrate.downgrade(revision=before)
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status, refunded_cents FROM orders ORDER BY id"))
            assert [tuple(row) for row in rows] == [(1, "partially_refunded", 300), (2, "paid", 0)]
            assert "disputes" not in inspect(conn).get_table_names()


SHIPPING_ADDRESSES = "0015"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_existing_orders_have_no_address_and_keep_their_totals_stock_and_timeline(
    backend, tmp_path
):
    with migrating("shop_migrate_shipping", tmp_path, backend):
        before = revision_before(SHIPPING_ADDRESSES)
        flask_migrate.upgrade(revision=before)
        with db.engine.begin() as conn:
            conn.execute(TOKENED_CUSTOMER)
            insert_order(conn, 1, "paid", checkout_key="'k1'", stock_hold="'sold'")
            insert_order(conn, 2, "pending", checkout_key="'k2'", stock_hold="'held'")
            conn.execute(FIRST_ORDER_PAID)
        columns = "id, status, total_cents, stock_hold"

        flask_migrate.upgrade(revision=SHIPPING_ADDRESSES)
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                f"SELECT {columns}, shipping_address, shipping_rate, shipping_cents FROM orders "
                "ORDER BY id"
            ))  # fmt: skip
            assert [tuple(row) for row in rows] == [
                (1, "paid", 900, "sold", None, None, 0),
                (2, "pending", 900, "held", None, None, 0),
            ]
            assert conn.execute(text("SELECT count(*) FROM order_events")).scalar() == 1
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # more than the total
            conn.execute(text("UPDATE orders SET shipping_cents = 901 WHERE id = 1"))
        with db.engine.begin() as conn:
            conn.execute(text(
                "UPDATE orders SET shipping_cents = 490, shipping_rate = 'Standard' WHERE id = 1"
            ))  # fmt: skip

        flask_migrate.downgrade(revision=before)
        with db.engine.connect() as conn:
            rows = conn.execute(text(f"SELECT {columns} FROM orders ORDER BY id"))
            assert [tuple(row) for row in rows] == [
                (1, "paid", 900, "sold"),
                (2, "pending", 900, "held"),
            ]
            assert "shipping_cents" not in {c["name"] for c in inspect(conn).get_columns("orders")}


CURRENCIES = "0016"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_existing_prices_become_prices_in_their_currency_and_orders_stay_cart_orders(
    backend, tmp_path
):
    with migrating("shop_migrate_currencies", tmp_path, backend):
        before = revision_before(CURRENCIES)
        flask_migrate.upgrade(revision=before)
        with db.engine.begin() as conn:
            conn.execute(TOKENED_CUSTOMER)
            for product_id, sku, price, currency, stock, reserved in (
                (1, "OLD-USD", 900, "usd", None, 0),
                (2, "OLD-EUR", 750, "eur", 4, 1),
            ):
                conn.execute(
                    text(
                        "INSERT INTO products (id, sku, name, description, price_cents, "
                        "currency, image, active, hidden, stock, reserved, created_at, "
                        "updated_at) VALUES (:id, :sku, 'Old beans', '', :price, :currency, '', "
                        "true, false, :stock, :reserved, '2026-01-01 10:00:00', "
                        "'2026-01-01 10:00:00')"
                    ),
                    {"id": product_id, "sku": sku, "price": price, "currency": currency,
                     "stock": stock, "reserved": reserved},
                )  # fmt: skip
            insert_order(conn, 1, "paid", checkout_key="'k1'", stock_hold="'sold'")
            insert_order(conn, 2, "pending", checkout_key="'k2'", stock_hold="'held'")
            insert_item(conn, 2, 2)
            conn.execute(FIRST_ORDER_PAID)

        flask_migrate.upgrade(revision=CURRENCIES)
        with db.engine.connect() as conn:
            prices = conn.execute(text(
                "SELECT product_id, currency, price_cents FROM product_prices ORDER BY product_id"
            ))  # fmt: skip
            assert [tuple(row) for row in prices] == [(1, "usd", 900), (2, "eur", 750)]
            stock = conn.execute(text("SELECT id, stock, reserved FROM products ORDER BY id"))
            assert [tuple(row) for row in stock] == [(1, None, 0), (2, 4, 1)]
            orders = conn.execute(text(
                "SELECT id, status, currency, total_cents, stock_hold, from_cart FROM orders "
                "ORDER BY id"
            ))  # fmt: skip
            assert [tuple(row) for row in orders] == [
                (1, "paid", "usd", 900, "sold", True),
                (2, "pending", "usd", 900, "held", True),
            ]
            assert conn.execute(text("SELECT count(*) FROM order_events")).scalar() == 1
            assert conn.execute(text("SELECT currency FROM users")).scalar() is None
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # one price per currency
            conn.execute(text("INSERT INTO product_prices VALUES (1, 'usd', 1000)"))
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO product_prices VALUES (1, 'eur', 850)"))
            conn.execute(text("INSERT INTO product_prices VALUES (2, 'gbp', 650)"))

        flask_migrate.downgrade(revision=before)
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT id, price_cents, currency, stock, reserved FROM products ORDER BY id"
            ))  # fmt: skip
            # The USD price where there is one, else the first by code (eur before gbp).
            assert [tuple(row) for row in rows] == [(1, 900, "usd", None, 0), (2, 750, "eur", 4, 1)]
            assert "product_prices" not in inspect(conn).get_table_names()
            assert "from_cart" not in {c["name"] for c in inspect(conn).get_columns("orders")}


PROMOTIONS = "0017"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_existing_orders_keep_their_totals_with_no_discount_or_tax(backend, tmp_path):
    with migrating("shop_migrate_promotions", tmp_path, backend):
        before = revision_before(PROMOTIONS)
        flask_migrate.upgrade(revision=before)
        with db.engine.begin() as conn:
            conn.execute(TOKENED_CUSTOMER)
            conn.execute(text(
                "INSERT INTO products (id, sku, name, description, image, active, hidden, "
                "stock, reserved, created_at, updated_at) VALUES (1, 'OLD-BEANS', 'Old beans', "
                "'', '', true, false, 5, 2, '2026-01-01 10:00:00', '2026-01-01 10:00:00')"
            ))  # fmt: skip
            conn.execute(text("INSERT INTO product_prices VALUES (1, 'usd', 900)"))
            insert_order(conn, 1, "paid", checkout_key="'k1'", stock_hold="'sold'",
                         shipping_cents="490")  # fmt: skip
            insert_order(conn, 2, "pending", checkout_key="'k2'", stock_hold="'held'")
            insert_item(conn, 2, 1, 2)
            conn.execute(FIRST_ORDER_PAID)
        stock_before = db.engine.connect().execute(text("SELECT stock, reserved FROM products"))
        stock_before = [tuple(row) for row in stock_before]

        flask_migrate.upgrade(revision=PROMOTIONS)
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT id, status, subtotal_cents, discount_cents, tax_cents, shipping_cents, "
                "total_cents, promotion_code, stock_hold FROM orders ORDER BY id"
            ))  # fmt: skip
            assert [tuple(row) for row in rows] == [
                (1, "paid", 410, 0, 0, 490, 900, None, "sold"),
                (2, "pending", 900, 0, 0, 0, 900, None, "held"),
            ]
            assert conn.execute(text("SELECT count(*) FROM order_events")).scalar() == 1
            stock = [
                tuple(row) for row in conn.execute(text("SELECT stock, reserved FROM products"))
            ]
            assert stock == stock_before
            session_columns = {c["name"] for c in inspect(conn).get_columns(
                "emulator_checkout_sessions")}  # fmt: skip
            assert {"amount_discount", "amount_tax", "discount"} <= session_columns
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # more off than it cost
            conn.execute(text("UPDATE orders SET discount_cents = 411 WHERE id = 1"))
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE orders SET discount_cents = 100, promotion_code = 'X' "
                              "WHERE id = 1"))  # fmt: skip

        flask_migrate.downgrade(revision=before)
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status, total_cents, stock_hold FROM orders "
                                     "ORDER BY id"))  # fmt: skip
            assert [tuple(row) for row in rows] == [
                (1, "paid", 900, "sold"),
                (2, "pending", 900, "held"),
            ]
            assert "promotions" not in inspect(conn).get_table_names()
            assert "discount_cents" not in {c["name"] for c in inspect(conn).get_columns("orders")}
