"""promotions: codes, discounts and tax on orders; Stripe's coupons, codes and tax rates in the emulator

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

Existing orders were charged list price with no tax line: their discount and tax are 0,
their total stays what Stripe charged, and their subtotal is that total less shipping (the
total itself for every order without shipping), so subtotal − discount + shipping = total
holds for them as for new ones. Stock, holds and timelines are not touched. The emulator's
existing sessions had no discount and no tax.

A downgrade forgets the codes and what orders recorded of them; totals stay.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "promotions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("amount_off_cents", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("minimum_cents", sa.Integer(), nullable=True),
        sa.Column("first_order_only", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("stripe_coupon_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_promotion_code_id", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "(percent_off IS NULL) <> (amount_off_cents IS NULL)",
            name=op.f("ck_promotions_one_kind_of_discount"),
        ),
        sa.CheckConstraint(
            "percent_off IS NULL OR (percent_off >= 1 AND percent_off <= 100)",
            name=op.f("ck_promotions_percent_in_range"),
        ),
        sa.CheckConstraint(
            "amount_off_cents IS NULL OR (amount_off_cents > 0 AND currency IS NOT NULL)",
            name=op.f("ck_promotions_amount_has_currency"),
        ),
        sa.CheckConstraint(
            "minimum_cents IS NULL OR (minimum_cents > 0 AND currency IS NOT NULL)",
            name=op.f("ck_promotions_minimum_has_currency"),
        ),
        sa.CheckConstraint(
            "max_redemptions IS NULL OR max_redemptions > 0",
            name=op.f("ck_promotions_limit_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_promotions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
        sa.UniqueConstraint("code", name=op.f("uq_promotions_code")),
        sa.UniqueConstraint(
            "stripe_promotion_code_id", name=op.f("uq_promotions_stripe_promotion_code_id")
        ),
    )
    op.create_table(
        "cart_codes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_cart_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_cart_codes")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subtotal_cents", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("discount_cents", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("tax_cents", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("promotion_code", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("promotion_code_id", sa.String(length=255), nullable=True))
    op.execute("UPDATE orders SET subtotal_cents = total_cents - shipping_cents")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_orders_amounts_in_range"),
            "subtotal_cents >= 0 AND tax_cents >= 0 AND discount_cents >= 0 "
            "AND discount_cents <= subtotal_cents",
        )

    op.create_table(
        "emulator_coupons",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=True),
        sa.Column("percent_off", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("amount_off", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("duration", sa.String(length=16), nullable=False),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("redeem_by", sa.Integer(), nullable=True),
        sa.Column("times_redeemed", sa.Integer(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "max_redemptions IS NULL OR times_redeemed <= max_redemptions",
            name=op.f("ck_emulator_coupons_coupon_redeemed_within_max"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_emulator_coupons")),
        sa.UniqueConstraint("id", name=op.f("uq_emulator_coupons_id")),
    )
    op.create_table(
        "emulator_promotion_codes",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("coupon_id", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("times_redeemed", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Integer(), nullable=True),
        sa.Column("first_time_transaction", sa.Boolean(), nullable=False),
        sa.Column("minimum_amount", sa.Integer(), nullable=True),
        sa.Column("minimum_amount_currency", sa.String(length=3), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "max_redemptions IS NULL OR times_redeemed <= max_redemptions",
            name=op.f("ck_emulator_promotion_codes_promotion_redeemed_within_max"),
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["emulator_coupons.id"],
            name=op.f("fk_emulator_promotion_codes_coupon_id_emulator_coupons"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_emulator_promotion_codes")),
        sa.UniqueConstraint("id", name=op.f("uq_emulator_promotion_codes_id")),
    )
    op.create_index(op.f("ix_emulator_promotion_codes_code"), "emulator_promotion_codes", ["code"])
    op.create_table(
        "emulator_tax_rates",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=50), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("percentage", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("inclusive", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("jurisdiction", sa.String(length=50), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_emulator_tax_rates")),
        sa.UniqueConstraint("id", name=op.f("uq_emulator_tax_rates_id")),
    )
    with op.batch_alter_table("emulator_checkout_sessions", schema=None) as batch_op:
        # `no_payment_required` (a session a 100% code makes free) is 19 characters.
        batch_op.alter_column(
            "payment_status",
            existing_type=sa.String(length=16),
            type_=sa.String(length=24),
            existing_nullable=False,
        )
        batch_op.add_column(
            sa.Column("amount_discount", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("amount_tax", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("discount", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "allow_promotion_codes", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("automatic_tax", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    # Before codes no session came to nothing: a free one reads as paid, as the shop saw it.
    op.execute(
        "UPDATE emulator_checkout_sessions SET payment_status = 'paid' "
        "WHERE payment_status = 'no_payment_required'"
    )
    with op.batch_alter_table("emulator_checkout_sessions", schema=None) as batch_op:
        batch_op.alter_column(
            "payment_status",
            existing_type=sa.String(length=24),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
        batch_op.drop_column("automatic_tax")
        batch_op.drop_column("allow_promotion_codes")
        batch_op.drop_column("discount")
        batch_op.drop_column("amount_tax")
        batch_op.drop_column("amount_discount")
    op.drop_table("emulator_tax_rates")
    op.drop_index(op.f("ix_emulator_promotion_codes_code"), table_name="emulator_promotion_codes")
    op.drop_table("emulator_promotion_codes")
    op.drop_table("emulator_coupons")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_amounts_in_range"), type_="check")
        batch_op.drop_column("promotion_code_id")
        batch_op.drop_column("promotion_code")
        batch_op.drop_column("tax_cents")
        batch_op.drop_column("discount_cents")
        batch_op.drop_column("subtotal_cents")
    op.drop_table("cart_codes")
    op.drop_table("promotions")
