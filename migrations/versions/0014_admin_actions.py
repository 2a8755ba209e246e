"""admin actions: what admins did that leaves no other trace (an orders export)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

A new table; a downgrade forgets the actions recorded.
"""

from alembic import op
import sqlalchemy as sa

import shop.models


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "admin_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=True),
        sa.Column("at", shop.models.UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["admin_id"],
            ["users.id"],
            name=op.f("fk_admin_actions_admin_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_actions")),
    )
    with op.batch_alter_table("admin_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_actions_admin_id"), ["admin_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_actions_at"), ["at"], unique=False)


def downgrade():
    with op.batch_alter_table("admin_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_actions_at"))
        batch_op.drop_index(batch_op.f("ix_admin_actions_admin_id"))

    op.drop_table("admin_actions")
