"""webhook health: how each Stripe event arrived, failed deliveries; indexes for /metrics

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Events recorded before this revision count as webhook deliveries (the server default). The
indexes keep a scrape's readings cheap however long the history: the last day's webhook
events and the last one, and the outbox counted by status. A downgrade forgets how events
arrived and the failures recorded.
"""

from alembic import op
import sqlalchemy as sa

import shop.models


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("via", sa.String(length=16), server_default="webhook", nullable=False)
        )
        batch_op.create_index(
            "ix_stripe_events_via_received_at", ["via", "received_at"], unique=False
        )

    op.create_table(
        "webhook_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("failed_at", shop.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_failures")),
    )
    with op.batch_alter_table("webhook_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_failures_failed_at"), ["failed_at"], unique=False
        )

    # Plain CREATE INDEX: a batch on SQLite could rebuild the table and lose ix_outbox_due's WHERE.
    op.create_index("ix_outbox_status", "outbox", ["status"], unique=False)


def downgrade():
    op.drop_index("ix_outbox_status", table_name="outbox")

    with op.batch_alter_table("webhook_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_failures_failed_at"))

    op.drop_table("webhook_failures")
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.drop_index("ix_stripe_events_via_received_at")
        batch_op.drop_column("via")
