"""refunds, and units returned to stock after one

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

A new table, and one more value an order's stock hold may take ('returned'). Existing
orders keep everything; none has a refund row (the shop could not refund before).
"""

from alembic import op
import sqlalchemy as sa

import shop.models


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_HOLDS = "stock_hold IN ('none', 'held', 'released', 'sold', 'sold_late')"
NEW_HOLDS = "stock_hold IN ('none', 'held', 'released', 'sold', 'sold_late', 'returned')"
STATUSES = "status IN ('pending', 'requires_action', 'succeeded', 'failed', 'canceled')"
ONE_PENDING = dict(
    unique=True,
    sqlite_where=sa.text("status = 'pending'"),
    postgresql_where=sa.text("status = 'pending'"),
)


def upgrade():
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("stripe_refund_id", sa.String(length=255), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("return_to_stock", sa.Boolean(), nullable=False),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("created_at", shop.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", shop.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_refunds_amount_positive")),
        sa.CheckConstraint(STATUSES, name=op.f("ck_refunds_status_known")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_refunds_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("key", name=op.f("uq_refunds_key")),
        sa.UniqueConstraint("stripe_refund_id", name=op.f("uq_refunds_stripe_refund_id")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_order_id"), ["order_id"], unique=False)
    _holds(OLD_HOLDS, NEW_HOLDS)


def downgrade():
    # The old schema has no 'returned' hold: such an order's units were sold.
    op.execute("UPDATE orders SET stock_hold = 'sold' WHERE stock_hold = 'returned'")
    _holds(NEW_HOLDS, OLD_HOLDS)
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_order_id"))
    op.drop_table("refunds")


def _holds(old: str, new: str) -> None:
    """Swap the CHECK on orders.stock_hold; SQLite copies the table, so the partial index is
    dropped first and made again after, keeping its WHERE clause."""
    op.drop_index(
        "uq_orders_one_pending_per_user",
        table_name="orders",
        sqlite_where=ONE_PENDING["sqlite_where"],
        postgresql_where=ONE_PENDING["postgresql_where"],
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_stock_hold_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_orders_stock_hold_known"), new)
    op.create_index("uq_orders_one_pending_per_user", "orders", ["user_id"], **ONE_PENDING)
