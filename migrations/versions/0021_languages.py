"""languages: the language each customer reads the shop and their emails in; German
product names and descriptions

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

Existing accounts have none chosen (NULL): their browser's language decides until they
choose. Existing orders have no language (NULL: English, as they were sent to Stripe) and
existing emulator sessions no locale. Existing products have no German texts (NULL) until the next `flask seed`: the
English ones show. A downgrade forgets the choices and the German texts.
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
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_de", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("description_de", sa.Text(), nullable=True))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))
    with op.batch_alter_table("emulator_checkout_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("emulator_checkout_sessions", schema=None) as batch_op:
        batch_op.drop_column("locale")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("description_de")
        batch_op.drop_column("name_de")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
