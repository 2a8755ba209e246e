"""emulator payments: PaymentIntents with their Charge, Refunds, and an event order

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

Existing paid sessions get their PaymentIntent and Charge rows here (ids kept: the
session's `payment_intent` stays the intent's id), so they can be retrieved and refunded.
Existing events get `seq` from their `created` second (ties keep their id order).
"""

import secrets
import string

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ALPHABET = string.ascii_letters + string.digits


def _new_id(prefix):
    """A Stripe-looking id, as the emulator makes them."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(24))


def upgrade():
    op.create_table(
        "emulator_payments",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("charge_id", sa.String(length=255), nullable=True),
        sa.Column("payment_method_id", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("amount_refunded", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("decline_code", sa.String(length=64), nullable=True),
        sa.Column("refunds_fail", sa.Boolean(), nullable=False),
        sa.Column("receipt_email", sa.String(length=512), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("paid_at", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount",
            name=op.f("ck_emulator_payments_refunded_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["emulator_checkout_sessions.id"],
            name=op.f("fk_emulator_payments_session_id_emulator_checkout_sessions"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_emulator_payments")),
        sa.UniqueConstraint("charge_id", name=op.f("uq_emulator_payments_charge_id")),
        sa.UniqueConstraint(
            "payment_intent_id", name=op.f("uq_emulator_payments_payment_intent_id")
        ),
        sa.UniqueConstraint("session_id", name=op.f("uq_emulator_payments_session_id")),
    )
    op.create_table(
        "emulator_refunds",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("payment_pk", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.String(length=64), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_pk"],
            ["emulator_payments.pk"],
            name=op.f("fk_emulator_refunds_payment_pk_emulator_payments"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_emulator_refunds")),
        sa.UniqueConstraint("id", name=op.f("uq_emulator_refunds_id")),
    )
    with op.batch_alter_table("emulator_refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emulator_refunds_payment_pk"), ["payment_pk"], unique=False
        )

    with op.batch_alter_table("emulator_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
    events = sa.table(
        "emulator_events", sa.column("seq", sa.BigInteger()), sa.column("created", sa.Integer())
    )
    # BIGINT before multiplying: seconds x 10^9 overflows PostgreSQL's INTEGER.
    op.execute(
        events.update().values(seq=sa.cast(events.c.created, sa.BigInteger()) * 1_000_000_000)
    )
    with op.batch_alter_table("emulator_events", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index(batch_op.f("ix_emulator_events_seq"), ["seq"], unique=False)

    _backfill_paid_sessions()


def _backfill_paid_sessions():
    """An intent and a charge for every session paid before this revision."""
    sessions = sa.table(
        "emulator_checkout_sessions",
        *(
            sa.column(name)
            for name in (
                "id",
                "payment_intent",
                "amount_total",
                "currency",
                "customer_email",
                "created",
                "status",
            )
        ),
        sa.column("metadata", sa.JSON()),
    )
    payments = sa.table(
        "emulator_payments",
        *(
            sa.column(name)
            for name in (
                "payment_intent_id",
                "session_id",
                "status",
                "charge_id",
                "payment_method_id",
                "amount",
                "amount_refunded",
                "currency",
                "card_last4",
                "refunds_fail",
                "receipt_email",
                "created",
                "paid_at",
            )
        ),
        sa.column("metadata", sa.JSON()),
    )
    bind = op.get_bind()
    paid = bind.execute(sa.select(sessions).where(sessions.c.status == "complete")).mappings()
    rows = [
        {
            "payment_intent_id": row["payment_intent"] or _new_id("pi_"),
            "session_id": row["id"],
            "status": "succeeded",
            "charge_id": _new_id("ch_"),
            "payment_method_id": _new_id("pm_"),
            "amount": row["amount_total"],
            "amount_refunded": 0,
            "currency": row["currency"],
            "card_last4": "4242",
            "refunds_fail": False,
            "receipt_email": row["customer_email"],
            "metadata": row["metadata"],
            # The session row does not say when it was paid; its creation is the best bound.
            "created": row["created"],
            "paid_at": row["created"],
        }
        for row in paid
    ]
    if rows:
        bind.execute(payments.insert(), rows)
        for row in rows:
            bind.execute(
                sessions.update()
                .where(sessions.c.id == row["session_id"])
                .values(payment_intent=row["payment_intent_id"])
            )


def downgrade():
    with op.batch_alter_table("emulator_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emulator_events_seq"))
        batch_op.drop_column("seq")

    with op.batch_alter_table("emulator_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emulator_refunds_payment_pk"))

    op.drop_table("emulator_refunds")
    op.drop_table("emulator_payments")
