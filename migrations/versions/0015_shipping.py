"""shipping: the address and rate Stripe collected for an order, and what shipping cost

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

Existing orders have no address (NULL) and shipped for nothing (0): their totals, stock
and timelines stay as they are. The emulator's sessions gain their shipping (NULL: none).
A downgrade forgets the addresses and rates; totals keep what Stripe charged.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipping_address", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("shipping_rate", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("shipping_cents", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("shipping_offers", sa.JSON(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_orders_shipping_within_total"),
            "shipping_cents >= 0 AND shipping_cents <= total_cents",
        )
    with op.batch_alter_table("emulator_checkout_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipping", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("emulator_checkout_sessions", schema=None) as batch_op:
        batch_op.drop_column("shipping")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_shipping_within_total"), type_="check")
        batch_op.drop_column("shipping_offers")
        batch_op.drop_column("shipping_cents")
        batch_op.drop_column("shipping_rate")
        batch_op.drop_column("shipping_address")
