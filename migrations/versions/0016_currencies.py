"""currencies: a price per product and currency, the customer's currency, Buy now orders

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

Each product's one price becomes its price in its own currency (`product_prices`), so an
existing product sells exactly as before in that currency. Existing orders keep their
currency, totals, stock and timelines, and are marked as cart orders (`from_cart`), which
they were. Customers start with no currency chosen (the shop's default).

A downgrade gives each product back one price: its USD one if it has one, else the first
by currency code (a product with none is priced 0 in USD); other prices are forgotten.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "product_prices",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_product_prices_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_prices_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "currency", name=op.f("pk_product_prices")),
    )
    op.execute(
        "INSERT INTO product_prices (product_id, currency, price_cents) "
        "SELECT id, lower(currency), price_cents FROM products"
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("price_cents")
        batch_op.drop_column("currency")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("from_cart", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("from_cart")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("currency")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("price_cents", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
    # The USD price, else the first by code: 'usd' sorts first when it is put as ''.
    first = (
        "SELECT {column} FROM product_prices WHERE product_prices.product_id = products.id "
        "ORDER BY CASE WHEN currency = 'usd' THEN '' ELSE currency END LIMIT 1"
    )
    op.execute(
        "UPDATE products SET "
        f"price_cents = coalesce(({first.format(column='price_cents')}), 0), "
        f"currency = coalesce(({first.format(column='currency')}), 'usd')"
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.alter_column("price_cents", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("currency", existing_type=sa.String(length=3), nullable=False)
    op.drop_table("product_prices")
