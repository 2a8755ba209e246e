"""languages: the language each customer reads the shop and their emails in

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

Existing accounts have none chosen (NULL): their browser's language decides until they
choose. A downgrade forgets the choices.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
