"""order timeline, partially refunded orders, random checkout keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Existing orders keep everything: each gets a random checkout key, and a timeline made
from what the order row already knows (when it was created, and the status it reached,
dated when it was paid or last changed), marked as recorded by this migration.
"""

import secrets

from alembic import op
import sqlalchemy as sa

import shop.models


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'paid', 'failed', 'expired', 'cancelled', 'refunded')"
NEW_STATUSES = (
    "status IN ('pending', 'paid', 'failed', 'expired', 'cancelled', 'partially_refunded', "
    "'refunded')"
)
SOURCES = "source IN ('checkout', 'success_page', 'webhook', 'reconcile', 'admin', 'system')"
ONE_PENDING = dict(
    unique=True,
    sqlite_where=sa.text("status = 'pending'"),
    postgresql_where=sa.text("status = 'pending'"),
)
BACKFILL_NOTE = "recorded when the timeline was introduced"


def upgrade():
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", shop.models.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(SOURCES, name=op.f("ck_order_events_source_known")),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_order_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_events_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_events_order_id"), ["order_id"], unique=False)

    # SQLite rebuilds the table for these changes; the partial index is dropped first and
    # made again after, so its WHERE clause survives the copy.
    op.drop_index("uq_orders_one_pending_per_user", table_name="orders", **_where())
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkout_key", sa.String(length=32), nullable=True))
        batch_op.alter_column(
            "status", existing_type=sa.String(length=16), type_=sa.String(length=24)
        )
        batch_op.drop_constraint(op.f("ck_orders_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_orders_status_known"), NEW_STATUSES)

    bind = op.get_bind()
    orders = sa.table(
        "orders",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("created_at", shop.models.UTCDateTime()),
        sa.column("updated_at", shop.models.UTCDateTime()),
        sa.column("paid_at", shop.models.UTCDateTime()),
        sa.column("checkout_key", sa.String()),
    )
    rows = bind.execute(
        sa.select(
            orders.c.id, orders.c.status, orders.c.created_at, orders.c.updated_at, orders.c.paid_at
        )
    ).all()
    for row in rows:
        bind.execute(
            orders.update().where(orders.c.id == row.id).values(checkout_key=secrets.token_hex(16))
        )
    events = sa.table(
        "order_events",
        sa.column("order_id", sa.Integer()),
        sa.column("at", shop.models.UTCDateTime()),
        sa.column("kind", sa.String()),
        sa.column("source", sa.String()),
        sa.column("note", sa.Text()),
    )
    timeline = []
    for row in rows:
        timeline.append(
            dict(
                order_id=row.id,
                at=row.created_at,
                kind="created",
                source="system",
                note=BACKFILL_NOTE,
            )
        )
        if row.status != "pending":
            reached = row.paid_at if row.status == "paid" and row.paid_at else row.updated_at
            timeline.append(
                dict(
                    order_id=row.id,
                    at=reached,
                    kind=row.status,
                    source="system",
                    note=BACKFILL_NOTE,
                )
            )
    if timeline:
        bind.execute(events.insert(), timeline)

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("checkout_key", existing_type=sa.String(length=32), nullable=False)
    op.create_index("uq_orders_one_pending_per_user", "orders", ["user_id"], **ONE_PENDING)


def downgrade():
    op.drop_index("uq_orders_one_pending_per_user", table_name="orders", **_where())
    # The old schema has no partial refunds: such an order was paid, less what came back.
    op.execute("UPDATE orders SET status = 'paid' WHERE status = 'partially_refunded'")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_orders_status_known"), OLD_STATUSES)
        batch_op.alter_column(
            "status", existing_type=sa.String(length=24), type_=sa.String(length=16)
        )
        batch_op.drop_column("checkout_key")
    op.create_index("uq_orders_one_pending_per_user", "orders", ["user_id"], **ONE_PENDING)

    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_events_order_id"))

    op.drop_table("order_events")


def _where() -> dict:
    """The partial index's condition, as drop_index wants it."""
    return {key: value for key, value in ONE_PENDING.items() if key != "unique"}
