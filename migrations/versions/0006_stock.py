"""stock and reservations, product history, orders needing attention

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Existing products stay untracked (stock empty: never sold out) until an admin sets a level;
`flask seed` sets the level only for products it adds. Existing pending orders hold their
units, as a checkout made after this migration would: `products.reserved` starts as the sum
of their quantities, so a payment for one of them turns the hold into a sale like any other.
"""

from alembic import op
import sqlalchemy as sa

import shop.models


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

HOLDS = "stock_hold IN ('none', 'held', 'released', 'sold', 'sold_late')"


def upgrade():
    op.create_table(
        "product_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("at", shop.models.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_product_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_events_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_events")),
    )
    with op.batch_alter_table("product_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_events_product_id"), ["product_id"], unique=False
        )

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stock", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reserved", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_check_constraint(op.f("ck_products_reserved_not_negative"), "reserved >= 0")

    op.drop_index("uq_orders_one_pending_per_user", table_name="orders", **_where())
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stock_hold", sa.String(length=12), nullable=False, server_default="none")
        )
        batch_op.add_column(sa.Column("attention", sa.Text(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_orders_stock_hold_known"), HOLDS)
    op.create_index("uq_orders_one_pending_per_user", "orders", ["user_id"], **ONE_PENDING)

    # Existing pending orders hold their units.
    op.execute("UPDATE orders SET stock_hold = 'held' WHERE status = 'pending'")
    op.execute(
        "UPDATE products SET reserved = (SELECT coalesce(sum(order_items.quantity), 0) "
        "FROM order_items JOIN orders ON orders.id = order_items.order_id "
        "WHERE orders.status = 'pending' AND order_items.product_id = products.id)"
    )
    # The server defaults only filled existing rows; the models set these values themselves.
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.alter_column("reserved", server_default=None)
        batch_op.alter_column("hidden", server_default=None)
    op.drop_index("uq_orders_one_pending_per_user", table_name="orders", **_where())
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("stock_hold", server_default=None)
    op.create_index("uq_orders_one_pending_per_user", "orders", ["user_id"], **ONE_PENDING)


def downgrade():
    op.drop_index("uq_orders_one_pending_per_user", table_name="orders", **_where())
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_stock_hold_known"), type_="check")
        batch_op.drop_column("attention")
        batch_op.drop_column("stock_hold")
    op.create_index("uq_orders_one_pending_per_user", "orders", ["user_id"], **ONE_PENDING)

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_products_reserved_not_negative"), type_="check")
        batch_op.drop_column("hidden")
        batch_op.drop_column("reserved")
        batch_op.drop_column("stock")

    with op.batch_alter_table("product_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_events_product_id"))

    op.drop_table("product_events")


ONE_PENDING = dict(
    unique=True,
    sqlite_where=sa.text("status = 'pending'"),
    postgresql_where=sa.text("status = 'pending'"),
)


def _where() -> dict:
    """The partial index's condition, as drop_index wants it."""
    return {key: value for key, value in ONE_PENDING.items() if key != "unique"}
