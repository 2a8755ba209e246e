"""disputes: a customer's chargeback of an order, on its own axis beside the payment status

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

Existing orders have no dispute (NULL) and nothing lost to one (0). A downgrade forgets
every dispute recorded.
"""

from alembic import op
import sqlalchemy as sa

import shop.models


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("stripe_dispute_id", sa.String(length=255), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("evidence_due_by", shop.models.UTCDateTime(), nullable=True),
        sa.Column("created_at", shop.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", shop.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount_cents >= 0", name=op.f("ck_disputes_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_disputes_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint("stripe_dispute_id", name=op.f("uq_disputes_stripe_dispute_id")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disputes_order_id"), ["order_id"], unique=False)

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispute", sa.String(length=8), nullable=True))
        batch_op.add_column(
            sa.Column("dispute_lost_cents", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_orders_dispute_known"), "dispute IS NULL OR dispute IN ('open', 'won', 'lost')"
        )
        batch_op.create_check_constraint(
            op.f("ck_orders_returned_within_total"),
            "dispute_lost_cents >= 0 AND refunded_cents + dispute_lost_cents <= total_cents",
        )


def downgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_returned_within_total"), type_="check")
        batch_op.drop_constraint(op.f("ck_orders_dispute_known"), type_="check")
        batch_op.drop_column("dispute_lost_cents")
        batch_op.drop_column("dispute")

    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disputes_order_id"))

    op.drop_table("disputes")
