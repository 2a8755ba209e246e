"""admin: fulfilment and shipments on orders, the refunded amount, list indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Existing orders keep everything: they become `unfulfilled` with nothing refunded (the
server defaults fill the new columns). A downgrade drops the shipment details.
"""

from alembic import op
import sqlalchemy as sa

import shop.models


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FULFILMENTS = "fulfilment IN ('unfulfilled', 'shipped')"
SHIPPED_WHEN_PAID = (
    "fulfilment = 'unfulfilled' OR (shipped_at IS NOT NULL AND "
    "status IN ('paid', 'partially_refunded', 'refunded'))"
)
REFUNDED_WITHIN_TOTAL = "refunded_cents >= 0 AND refunded_cents <= total_cents"
ONE_PENDING = dict(
    unique=True,
    sqlite_where=sa.text("status = 'pending'"),
    postgresql_where=sa.text("status = 'pending'"),
)


def upgrade():
    # SQLite rebuilds the table to add CHECK constraints; the partial index is dropped first
    # and made again after, so its WHERE clause survives the copy.
    op.drop_index("uq_orders_one_pending_per_user", table_name="orders", **_where())
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("refunded_cents", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "fulfilment", sa.String(length=16), server_default="unfulfilled", nullable=False
            )
        )
        batch_op.add_column(sa.Column("shipped_at", shop.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("carrier", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("tracking_number", sa.String(length=64), nullable=True))
        batch_op.create_check_constraint(op.f("ck_orders_fulfilment_known"), FULFILMENTS)
        batch_op.create_check_constraint(op.f("ck_orders_shipped_when_paid"), SHIPPED_WHEN_PAID)
        batch_op.create_check_constraint(
            op.f("ck_orders_refunded_within_total"), REFUNDED_WITHIN_TOTAL
        )
        batch_op.create_index("ix_orders_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_orders_paid_at", ["paid_at"], unique=False)
    op.create_index("uq_orders_one_pending_per_user", "orders", ["user_id"], **ONE_PENDING)


def downgrade():
    op.drop_index("uq_orders_one_pending_per_user", table_name="orders", **_where())
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_paid_at")
        batch_op.drop_index("ix_orders_created_at")
        batch_op.drop_constraint(op.f("ck_orders_refunded_within_total"), type_="check")
        batch_op.drop_constraint(op.f("ck_orders_shipped_when_paid"), type_="check")
        batch_op.drop_constraint(op.f("ck_orders_fulfilment_known"), type_="check")
        batch_op.drop_column("tracking_number")
        batch_op.drop_column("carrier")
        batch_op.drop_column("shipped_at")
        batch_op.drop_column("fulfilment")
        batch_op.drop_column("refunded_cents")
    op.create_index("uq_orders_one_pending_per_user", "orders", ["user_id"], **ONE_PENDING)


def _where() -> dict:
    """The partial index's condition, as drop_index wants it."""
    return {key: value for key, value in ONE_PENDING.items() if key != "unique"}
