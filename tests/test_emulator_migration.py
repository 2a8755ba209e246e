"""Migration 0007 keeps what the emulator already holds: sessions paid before it get a
PaymentIntent and Charge (under the id the shop recorded), events keep their order."""

import json
import time

import flask_migrate
import pytest
from sqlalchemy import text

from conftest import migrating
from shop.extensions import db
from stripe_helpers import stripe_client

BEFORE = "0006"  # the revision before the emulator's payments


def insert_session(conn, session_id: str, status: str, payment_intent: str | None) -> None:
    """A session row as revision 0003 stores it."""
    now = int(time.time())
    conn.execute(
        text(
            "INSERT INTO emulator_checkout_sessions (id, status, payment_status, mode, currency,"
            " amount_subtotal, amount_total, line_items, payment_method_types, success_url,"
            " cancel_url, client_reference_id, customer_email, metadata, payment_intent, url,"
            " created, expires_at) VALUES (:id, :status, :paid, 'payment', 'eur', 4200, 4200,"
            " '[]', '[\"card\"]', 'https://shop.example/ok', NULL, '9', 'old@example.com',"
            " :meta, :pi, 'https://shop.example/pay', :now, :later)"
        ),
        {
            "id": session_id, "status": status, "pi": payment_intent, "now": now,
            "paid": "paid" if status == "complete" else "unpaid", "later": now + 1800,
            "meta": json.dumps({"order_id": "9"}),
        },
    )  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sessions_paid_before_0006_can_be_read_and_refunded_after_it(backend, tmp_path):
    with migrating("shop_emulator_0007", tmp_path, backend):
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            insert_session(conn, "cs_test_old_paid", "complete", "pi_oldpaid")
            insert_session(conn, "cs_test_old_open", "open", None)
            for n, created in enumerate((100, 100, 50)):
                conn.execute(
                    text(
                        "INSERT INTO emulator_events (id, type, created, payload) "
                        "VALUES (:id, 'checkout.session.completed', :created, '{}')"
                    ),
                    {"id": f"evt_old{n}", "created": created},
                )
        flask_migrate.upgrade()
        sdk = stripe_client().v1
        intent = sdk.payment_intents.retrieve("pi_oldpaid", params={"expand": ["latest_charge"]})
        assert (intent.status, intent.amount, intent.currency) == ("succeeded", 4200, "eur")
        assert intent.metadata.to_dict() == {"order_id": "9"}
        assert intent.latest_charge.amount_refunded == 0
        refund = sdk.refunds.create(params={"payment_intent": "pi_oldpaid", "amount": 200})
        assert refund.status == "succeeded"
        assert sdk.checkout.sessions.retrieve("cs_test_old_open").payment_intent is None
        with db.engine.connect() as conn:
            order = conn.execute(text("SELECT id FROM emulator_events ORDER BY seq, id")).scalars()
            assert list(order)[:3] == ["evt_old2", "evt_old0", "evt_old1"]
        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            kept = conn.scalar(text("SELECT count(*) FROM emulator_checkout_sessions"))
            assert kept == 2
