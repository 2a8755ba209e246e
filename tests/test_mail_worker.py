"""The worker against a real SMTP server: an outage delays mail and loses none, a message
goes out once however many workers look, failures end on the order's timeline, and
SIGTERM (or a crash) in the middle of a send never loses the message."""

import signal
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from test_deploy import assert_one_named_error, paas_env, procfile, run_process_type

from checkout_helpers import pay
from conftest import app_config, unreachable_database_url
from mail_helpers import Mailbox, running_worker, start_worker_process, wait_until
from shop import create_app
from shop.auth import notices
from shop.extensions import db
from shop.models import utcnow
from shop.notifications.models import OutboxMessage
from shop.notifications.worker import Policy, Worker, claim_next, record_sent
from shop.orders.models import OrderEvent

EMAIL = "ada@example.com"
#: Retry and poll fast: the test's minute of outage is a fraction of a second.
FAST = {"MAIL_RETRY_SECONDS": 0.05, "MAIL_POLL_SECONDS": 0.02}


def outbox(app) -> list[OutboxMessage]:
    """Every outbox row, oldest first, detached."""
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return found


def owe_account_mail(app, count: int) -> None:
    """`count` account messages to different people, committed."""
    with app.app_context():
        for n in range(count):
            notices.enqueue_account_notice(
                f"c{n}@example.com", cause=f"test:{n}", subject=f"Note {n}", paragraphs=["Hi"]
            )
        db.session.commit()


def timeline_entries(app, order_id: int, kind: str) -> list[OrderEvent]:
    """An order's timeline entries of one kind, detached."""
    with app.app_context():
        found = list(db.session.scalars(select(OrderEvent).filter_by(order_id=order_id, kind=kind)))
        db.session.expunge_all()
        return found


def test_smtp_down_while_paying_the_receipt_arrives_once_it_is_back(app, order, mailbox):
    mailbox.stop()
    pay(app, order.stripe_session_id)
    with running_worker(app, mailbox.transport(), **FAST):
        wait_until(lambda: outbox(app)[0].attempts >= 3)
        [waiting] = outbox(app)
        assert waiting.status == "pending" and "cannot reach" in waiting.last_error
        mailbox.start()
        [mail] = mailbox.wait_for(1)
        wait_until(lambda: outbox(app)[0].status == "sent")
    [sent] = outbox(app)
    assert mail.recipients == [EMAIL] and f"order #{order.id}" in mail.message["Subject"]
    assert mail.message["Message-ID"] == sent.message_id
    assert len(mailbox.received) == 1  # nothing doubled
    print(f"\nSMTP down for {sent.attempts - 1} attempts, then one receipt")


def test_out_of_attempts_the_message_fails_on_the_order_s_timeline(app, order, mailbox):
    mailbox.stop()
    pay(app, order.stripe_session_id)
    with running_worker(app, mailbox.transport(), MAIL_MAX_ATTEMPTS=3, **FAST):
        wait_until(lambda: outbox(app)[0].status == "failed")
    [failed] = outbox(app)
    assert failed.attempts == 3 and failed.claim_token is None
    [entry] = timeline_entries(app, order.id, "email_failed")
    assert (entry.source, entry.reference) == ("system", f"outbox:{failed.id}")
    assert entry.note.startswith(f"receipt email to {EMAIL} not sent after 3 attempts")
    mailbox.start()
    with running_worker(app, mailbox.transport(), **FAST) as worker, app.app_context():
        assert worker.send_next() is False  # failed stays failed: nothing is due
    assert mailbox.received == []


def test_a_refused_recipient_fails_at_once(app, order, mailbox):
    mailbox.refused.add(EMAIL)
    pay(app, order.stripe_session_id)
    with running_worker(app, mailbox.transport(), **FAST):
        wait_until(lambda: outbox(app)[0].status == "failed")
    [failed] = outbox(app)
    assert failed.attempts == 1 and "550" in failed.last_error
    [entry] = timeline_entries(app, order.id, "email_failed")
    assert "refused" in entry.note


def test_credentials_in_mail_url_log_in(app):
    box = Mailbox(username="shop@example.com", password="p@ss word/1")
    box.start()
    try:
        owe_account_mail(app, 1)
        with running_worker(app, box.transport(), **FAST):
            [mail] = box.wait_for(1)
    finally:
        box.stop()
    assert box.logins == ["shop@example.com"] and mail.recipients == ["c0@example.com"]


def test_two_workers_send_each_message_once(app, mailbox):
    owe_account_mail(app, 30)
    with (
        running_worker(app, mailbox.transport(), **FAST),
        running_worker(app, mailbox.transport(), **FAST),
    ):
        received = mailbox.wait_for(30)
        wait_until(lambda: all(row.status == "sent" for row in outbox(app)))
    ids = [mail.message["Message-ID"] for mail in received]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert {row.attempts for row in outbox(app)} == {1}


def test_a_claim_that_ran_out_is_retried_and_the_late_worker_changes_nothing(app):
    owe_account_mail(app, 1)
    with app.app_context():
        policy = Policy.of(app.config)
        stalled = claim_next(policy)
        assert claim_next(policy) is None  # claimed: no other worker takes it
        db.session.execute(update(OutboxMessage).values(claimed_until=utcnow() - timedelta(1)))
        db.session.commit()
        retry = claim_next(policy)
        assert (retry.id, retry.attempts) == (stalled.id, 2)
        record_sent(stalled)  # the stalled worker wakes up: its claim is gone
        row = db.session.get(OutboxMessage, retry.id)
        assert (row.status, row.claim_token) == ("pending", retry.claim_token)
        record_sent(retry)
        db.session.refresh(row)
        assert (row.status, row.claim_token) == ("sent", None)


def test_on_postgresql_a_claim_skips_a_row_another_worker_has_locked(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time")
    owe_account_mail(app, 2)
    first, second = (row.id for row in outbox(app))
    with app.app_context(), db.engine.connect() as other:
        held = other.begin()  # another worker, between picking the first row and committing
        other.execute(select(OutboxMessage.id).where(OutboxMessage.id == first).with_for_update())
        db.session.execute(text("SET LOCAL lock_timeout = '5s'"))  # fail, don't hang, if it waits
        started = time.monotonic()
        claimed = claim_next(Policy.of(app.config))
        waited = time.monotonic() - started
        held.rollback()
    assert claimed.id == second and waited < 1


def test_sigterm_during_a_send_finishes_that_message_then_stops(app, order, mailbox, tmp_path):
    pay(app, order.stripe_session_id)
    log = tmp_path / "worker.log"
    with mailbox.holding() as release:
        worker = start_worker_process(app.config["SQLALCHEMY_DATABASE_URI"], mailbox, log)
        assert mailbox.arrived.wait(30), log.read_text()  # the receipt is mid-send
        worker.send_signal(signal.SIGTERM)
        release.set()
        assert worker.wait(timeout=30) == 0, log.read_text()
    [mail] = mailbox.wait_for(1)
    [sent] = outbox(app)
    assert (sent.status, sent.attempts) == ("sent", 1)
    assert mail.message["Message-ID"] == sent.message_id
    assert "mail sent" in log.read_text() and "worker stopped" in log.read_text()
    assert "https://shop.example.com/orders" in mail.part("plain")


def test_a_worker_killed_during_a_send_leaves_it_to_be_retried(app, order, mailbox, tmp_path):
    pay(app, order.stripe_session_id)
    log = tmp_path / "worker.log"
    with mailbox.holding() as release:
        worker = start_worker_process(
            app.config["SQLALCHEMY_DATABASE_URI"],
            mailbox,
            log,
            MAIL_TIMEOUT="1",
            MAIL_CLAIM_SECONDS="5",
        )
        assert mailbox.arrived.wait(30), log.read_text()
        worker.kill()
        worker.wait(timeout=30)
        release.set()  # the client is gone: the server may drop or keep what it had
    [claimed] = outbox(app)
    assert (claimed.status, claimed.attempts) == ("pending", 1) and claimed.claimed_until
    with running_worker(app, mailbox.transport(), **FAST):
        wait_until(lambda: outbox(app)[0].status == "sent")  # once the claim ran out
    [sent] = outbox(app)
    # The retry's copy, and the first one if the server kept it: the same Message-ID.
    copies = {mail.message["Message-ID"] for mail in mailbox.received}
    assert sent.attempts == 2 and len(mailbox.received) in (1, 2)
    assert copies == {sent.message_id}


def test_a_database_outage_pauses_the_worker_without_stopping_it(tmp_path, mailbox, caplog):
    app = create_app(app_config(unreachable_database_url(tmp_path)))
    worker = Worker(app, mailbox.transport(), threading.Event())
    with app.app_context():
        assert worker.send_next() is False and worker.send_next() is False
    assert "cannot claim" in caplog.text


def test_the_procfile_runs_the_worker():
    assert procfile()["worker"] == "exec flask worker"


def test_in_production_the_worker_needs_mail_url_and_public_url(tmp_path):
    base = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/shop.db",
        "SECRET_KEY": "s",
        "STRIPE_EMULATOR": "1",
    }
    # PUBLIC_URL given: production needs it anyway (issue #22), so MAIL_URL is what lacks.
    public = {"PUBLIC_URL": "https://shop.example.com"}
    result = run_process_type("worker", paas_env(**base, **public), timeout=30)
    assert result.returncode != 0
    assert_one_named_error(result.stdout, "MAIL_URL")
    mail = {"MAIL_URL": "smtp://127.0.0.1:2525", "MAIL_FROM": "Shop <shop@example.com>"}
    result = run_process_type("worker", paas_env(**base, **mail), timeout=30)
    assert result.returncode != 0
    assert_one_named_error(result.stdout, "PUBLIC_URL")
