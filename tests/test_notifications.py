"""The outbox: a receipt is owed exactly when an order becomes paid, whatever reports it and
however often; messages render as promised (text and HTML, escaped, linked); shipping,
refund and account notices are enqueued once per cause."""

import logging
import re
import threading
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from checkout_helpers import deliver, fixture_event, pay
from shop.auth.notices import enqueue_account_notice
from shop.catalog.models import Product
from shop.extensions import db
from shop.notifications import outbox
from shop.notifications.models import OutboxMessage
from shop.notifications.transport import FileTransport
from shop.notifications.worker import Worker
from shop.orders import notices
from shop.orders.models import Order, OrderItem

EMAIL = "ada@example.com"  # the `user` fixture's address


def rows(app, **where) -> list[OutboxMessage]:
    """Outbox rows (filtered by column values), oldest first, detached."""
    with app.app_context():
        found = list(
            db.session.scalars(select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id))
        )
        db.session.expunge_all()
        return found


def send_all(app, transport) -> int:
    """The worker's step, repeated in this thread until nothing is due; how many it sent."""
    worker = Worker(app, transport, threading.Event())
    sent = 0
    with app.app_context():
        while worker.send_next():
            sent += 1
    return sent


def load_order(app, order_id: int) -> Order:
    """An order with its items, for enqueueing directly."""
    order = db.session.get(Order, order_id)
    _ = order.items
    return order


def test_enqueue_once_per_cause_and_only_with_its_transaction(app, order):
    with app.app_context():
        first = outbox.enqueue("account", EMAIL, {"subject": "Hi", "paragraphs": []}, "test:1")
        again = outbox.enqueue("account", EMAIL, {"subject": "Other", "paragraphs": []}, "test:1")
        db.session.commit()
        outbox.enqueue("account", EMAIL, {"subject": "Gone", "paragraphs": []}, "test:2")
        db.session.rollback()
    assert (first, again) == (True, False)
    assert [(row.cause, row.context["subject"]) for row in rows(app)] == [("test:1", "Hi")]


def test_enqueue_refuses_unknown_kinds_and_non_json_context(app):
    with app.app_context(), pytest.raises(ValueError, match="unknown message kind"):
        outbox.enqueue("postcard", EMAIL, {}, "test:kind")
    with app.app_context(), pytest.raises(TypeError):
        outbox.enqueue("account", EMAIL, {"subject": object()}, "test:json")


def test_paying_owes_one_receipt_whatever_reports_it_and_however_often(app, client, order):
    event = fixture_event("checkout.session.completed.json", order, "evt_receipt_once")
    for _ in range(5):
        assert deliver(client, app, event).status_code == 200
    pay(app, order.stripe_session_id)  # the emulator's own delivery, another event id
    for _ in range(3):
        client.get(f"/checkout/success?session_id={order.stripe_session_id}")

    [receipt] = rows(app)
    assert (receipt.kind, receipt.cause, receipt.recipient) == (
        "receipt",
        f"order:{order.id}:receipt",
        EMAIL,
    )
    assert receipt.order_id == order.id and receipt.status == "pending"
    assert receipt.context["total_cents"] == order.total_cents
    assert [line["quantity"] for line in receipt.context["lines"]] == [2, 1]


def test_an_unpaid_outcome_owes_nothing(app, client, order):
    failed = fixture_event("checkout.session.async_payment_failed.json", order, "evt_no_mail")
    assert deliver(client, app, failed).status_code == 200
    assert rows(app) == []


def test_the_receipt_reaches_the_customer_once_with_number_and_total(app, client, order, mailbox):
    pay(app, order.stripe_session_id)
    client.get(f"/checkout/success?session_id={order.stripe_session_id}")
    assert send_all(app, mailbox.transport()) == 1
    assert send_all(app, mailbox.transport()) == 0

    [mail] = mailbox.wait_for(1)
    [row] = rows(app)
    assert mail.recipients == [EMAIL] and mail.message["To"] == EMAIL
    assert mail.message["Subject"] == f"Your receipt for order #{order.id}"
    assert mail.message["From"] == app.config["MAIL_FROM"]
    assert mail.message["Message-ID"] == row.message_id
    assert parsedate_to_datetime(mail.message["Date"]) == row.created_at.replace(microsecond=0)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    total = "$" + f"{order.total_cents / 100:.2f}"
    for subtype in ("plain", "html"):
        body = mail.part(subtype)
        assert f"Order #{order.id}" in body and total in body
        assert "Northside Roastery" in body
        assert "Ethiopia" in body and "2 " in body
        assert "http://127.0.0.1:5000/orders" in body  # PUBLIC_URL's development default


def test_links_are_built_on_public_url(app, client, order, mailbox):
    app.config["PUBLIC_URL"] = "https://shop.example.com"
    pay(app, order.stripe_session_id)
    send_all(app, mailbox.transport())
    [mail] = mailbox.wait_for(1)
    assert 'href="https://shop.example.com/orders"' in mail.part("html")
    assert "https://shop.example.com/orders" in mail.part("plain")


def test_markup_from_names_and_admin_input_is_escaped_in_html(app, order, mailbox):
    hostile = '<script>alert("x")</script> & <b>co</b>'
    with app.app_context():
        db.session.execute(OrderItem.__table__.update().values(name=hostile))
        db.session.commit()
        paid = load_order(app, order.id)
        notices.enqueue_shipping_notice(paid, carrier=hostile, tracking_number="<i>1Z</i>")
        notices.enqueue_refund_notice(
            paid, refund_id="re_1", amount_cents=100, remaining_cents=900, reason=hostile
        )
        db.session.commit()
    assert send_all(app, mailbox.transport()) == 2
    for mail in mailbox.wait_for(2):
        html = mail.part("html")
        assert "<script>" not in html and "<b>co</b>" not in html and "<i>" not in html
        assert "&lt;script&gt;" in html and "&amp;" in html
        assert hostile in mail.part("plain")  # plain text is text: shown as typed


def test_shipping_notice_carries_carrier_tracking_and_lines_once(app, order, mailbox):
    with app.app_context():
        shipped = load_order(app, order.id)
        first = notices.enqueue_shipping_notice(shipped, carrier="DHL", tracking_number="JD0123")
        again = notices.enqueue_shipping_notice(shipped, carrier="DHL", tracking_number="JD0123")
        db.session.commit()
    assert (first, again) == (True, False)
    send_all(app, mailbox.transport())
    [mail] = mailbox.wait_for(1)
    assert mail.message["Subject"] == f"Order #{order.id} is on its way"
    for subtype in ("plain", "html"):
        body = mail.part(subtype)
        assert "DHL" in body and "JD0123" in body and "Stoneware" in body.replace("\n", " ")


def test_each_refund_gets_its_notice_once(app, order, mailbox):
    with app.app_context():
        refunded = load_order(app, order.id)
        total = refunded.total_cents
        added = [
            notices.enqueue_refund_notice(
                refunded,
                refund_id=refund,
                amount_cents=500,
                remaining_cents=total - spent,
                reason=why,
            )
            for refund, spent, why in (
                ("re_A", 500, "requested_by_customer"),
                ("re_A", 500, "requested_by_customer"),  # a second report of the same refund
                ("re_B", 1000, ""),
            )
        ]
        db.session.commit()
    assert added == [True, False, True]
    send_all(app, mailbox.transport())
    first, second = sorted(
        mailbox.wait_for(2), key=lambda mail: "at your request" in mail.part("plain")
    )
    assert "at your request" in second.part("plain")
    assert "$5.00" in second.message["Subject"]
    remaining = "$" + f"{(total - 500) / 100:.2f}"
    assert f"The order now comes to: {remaining}" in second.part("plain")
    assert "Refunded so far: $10.00" in first.part("plain")


def test_account_notices_are_generic_and_escaped(app, mailbox):
    with app.app_context():
        enqueue_account_notice(
            "bob@example.com",
            cause="user:7:password-reset:abc",
            subject="Reset your password",
            paragraphs=["Someone asked to reset the password of <bob>.", "Ignore this if not you."],
            action_url="https://shop.example.com/reset/abc?x=1&y=2",
            action_label="Choose a new password",
        )
        db.session.commit()
    send_all(app, mailbox.transport())
    [mail] = mailbox.wait_for(1)
    assert mail.recipients == ["bob@example.com"]
    assert mail.message["Subject"] == "Reset your password"
    html = mail.part("html")
    assert "of &lt;bob&gt;." in html
    assert 'href="https://shop.example.com/reset/abc?x=1&amp;y=2"' in html
    assert "Choose a new password: https://shop.example.com/reset/abc?x=1&y=2" in mail.part("plain")
    assert "/orders" not in html  # account mail is not about orders


def test_without_mail_url_messages_become_eml_files_and_a_log_line(app, order, tmp_path, caplog):
    pay(app, order.stripe_session_id)
    with caplog.at_level(logging.INFO, logger="shop.notifications.transport"):
        assert send_all(app, FileTransport(str(tmp_path / "mail"))) == 1
    [eml] = list((tmp_path / "mail").glob("*.eml"))
    assert f"Your receipt for order #{order.id}" in eml.read_text()
    assert any(str(eml) in str(getattr(r, "fields", {})) for r in caplog.records)
    # Named by date and kind, so a folder of them reads as a log; a retry rewrites the file.
    [row] = rows(app)
    assert re.fullmatch(rf"{row.created_at:%Y%m%d-%H%M%S}-receipt-[0-9a-f]{{8}}\.eml", eml.name)
    assert "From: Northside Roastery <orders@northside.example>" in eml.read_text()


def test_the_default_transport_writes_to_instance_mail(app):
    from shop.notifications.transport import transport_for

    transport = transport_for(app)
    assert isinstance(transport, FileTransport)
    assert str(transport.directory).endswith("instance/mail")


def test_a_product_renamed_later_does_not_change_the_receipt(app, client, order, mailbox):
    pay(app, order.stripe_session_id)
    with app.app_context():
        db.session.execute(Product.__table__.update().values(name="Renamed"))
        db.session.execute(OrderItem.__table__.update().values(name="Renamed"))
        db.session.commit()
    send_all(app, mailbox.transport())
    [mail] = mailbox.wait_for(1)
    assert "Renamed" not in mail.part("plain") and "Ethiopia" in mail.part("plain")


def test_the_message_id_names_its_kind_and_never_folds_however_long_the_domain(app, order):
    app.config["MAIL_FROM"] = "Shop <orders@mail.a-rather-long-roastery-domain-name.example.com>"
    pay(app, order.stripe_session_id)
    [row] = rows(app)
    assert re.fullmatch(
        r"<receipt\.[0-9a-f]{16}@mail\.a-rather-long-roastery-domain-name\.example\.com>",
        row.message_id,
    )
    with app.app_context():
        from shop.notifications import messages

        outgoing = messages.Outgoing(
            row.id, row.kind, row.recipient, row.context, row.message_id, row.created_at,
            row.order_id, row.attempts, "test",
        )  # fmt: skip
        raw = messages.render(outgoing).as_bytes().decode()
    assert f"Message-ID: {row.message_id}\n" in raw  # one line: a folded id breaks threading
