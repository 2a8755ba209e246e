"""saved cards: each account's Stripe Customer; the emulator's customers and saved cards

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

Existing accounts have no Customer yet (NULL): the next checkout makes one. Existing
emulator sessions had no customer and offered no saving. A downgrade forgets the ids (the
Customers stay at Stripe) and the emulator's customers and cards.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stripe_customer_id", sa.String(length=255), nullable=True))
    op.create_table(
        "emulator_customers",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=512), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_emulator_customers")),
        sa.UniqueConstraint("id", name=op.f("uq_emulator_customers_id")),
    )
    op.create_table(
        "emulator_payment_methods",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("customer", sa.String(length=255), nullable=True),
        sa.Column("brand", sa.String(length=16), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_emulator_payment_methods")),
        sa.UniqueConstraint("id", name=op.f("uq_emulator_payment_methods_id")),
    )
    op.create_index(
        op.f("ix_emulator_payment_methods_customer"), "emulator_payment_methods", ["customer"]
    )
    with op.batch_alter_table("emulator_checkout_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("save_card_offered", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("emulator_checkout_sessions", schema=None) as batch_op:
        batch_op.drop_column("save_card_offered")
        batch_op.drop_column("customer")
    op.drop_index(
        op.f("ix_emulator_payment_methods_customer"), table_name="emulator_payment_methods"
    )
    op.drop_table("emulator_payment_methods")
    op.drop_table("emulator_customers")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("stripe_customer_id")
