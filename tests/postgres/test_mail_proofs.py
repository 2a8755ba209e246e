"""Two `worker` processes (the Procfile's command) on one PostgreSQL outbox: fifty orders
paid through the real webhook under gunicorn make fifty receipts, none sent twice."""

import signal
import time
import uuid
from collections import Counter

import pytest
import requests

from conftest import FAST_HASH, PASSWORD, app_config
from mail_helpers import Mailbox, start_worker_process, wait_until
from shop import create_app
from shop.auth import services as auth_services
from shop.extensions import db

from .shop_server import Customer, completed_event, session_id_of, together

pytestmark = pytest.mark.postgres

ORDERS = 50
WORKERS = 2


def new_customers(server, count: int) -> list[Customer]:
    """`count` accounts made in one go (fast hash), each logged in over HTTP."""
    app = create_app(app_config(server.database_url))
    with app.app_context():
        try:
            made = []
            for _ in range(count):
                email = f"r{uuid.uuid4().hex[:10]}@example.com"
                made.append((email, auth_services.register_user(email, PASSWORD, FAST_HASH).id))
        finally:
            db.session.remove()
            db.engine.dispose()
    return [Customer(server, email, user_id).log_in() for email, user_id in made]


def buy_and_pay(server, customer: Customer, product_id: int) -> None:
    """Add a line, check out, pay at Stripe, and let Stripe's event reach the webhook."""
    line = {"product_id": product_id, "quantity": 1}
    assert customer.send("POST", "/cart/items", line).status_code == 200
    session_id = session_id_of(customer.send("POST", "/checkout").headers["HX-Redirect"])
    body, headers = server.webhook(completed_event(server.pay_at_stripe(session_id)))
    answer = requests.post(server.url("/stripe/webhook"), data=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text


def test_two_workers_and_fifty_paid_orders_send_fifty_receipts_none_twice(
    server, products, tmp_path
):
    mailbox = Mailbox()
    mailbox.delay = 0.02  # a server that takes a moment, so both workers have work at once
    mailbox.start()
    logs = [tmp_path / f"worker{n}.log" for n in range(WORKERS)]
    workers = [start_worker_process(server.database_url, mailbox, log) for log in logs]
    try:
        wait_until(lambda: all("worker started" in log.read_text() for log in logs))
        customers = new_customers(server, ORDERS)
        beans = products["BEAN-ETH-250"]
        started = time.monotonic()
        together(ORDERS, lambda i: buy_and_pay(server, customers[i], beans))
        paid = time.monotonic() - started
        received = mailbox.wait_for(ORDERS, timeout=60)
        wait_until(
            lambda: server.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") == ORDERS,
            timeout=60,
        )
        delivered = time.monotonic() - started
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=30) for worker in workers]
        mailbox.stop()

    # The workers have exited: whatever they sent is in the mailbox now.
    per_worker = [log.read_text().count('msg="mail sent"') for log in logs]
    ids = Counter(mail.message["Message-ID"] for mail in mailbox.received)
    recipients = Counter(address for mail in mailbox.received for address in mail.recipients)
    claims = server.scalar("SELECT sum(attempts) FROM outbox")
    print(
        f"\n{ORDERS} orders paid by webhook in {paid:.1f}s; {len(mailbox.received)} receipts "
        f"by {delivered:.1f}s; per worker {per_worker}; claims {claims}; exits {codes}"
    )
    assert codes == [0] * WORKERS
    assert len(received) == len(mailbox.received) == ORDERS
    assert len(ids) == ORDERS and max(ids.values()) == 1
    assert set(recipients) == {customer.email for customer in customers}
    assert max(recipients.values()) == 1
    assert claims == ORDERS and sum(per_worker) == ORDERS
    subjects = {mail.message["Subject"] for mail in mailbox.received}
    orders = server.rows("SELECT id FROM orders WHERE status = 'paid'")
    assert subjects == {f"Your receipt for order #{order_id}" for (order_id,) in orders}
