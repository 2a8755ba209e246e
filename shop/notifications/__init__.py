"""Notifications: the messages the shop owes people, kept in an outbox and sent by a worker.

How a message flows:

1. The change that causes it (an order paid, shipped, refunded; an account event) calls an
   `enqueue_*` function in its own transaction. That adds one `outbox` row holding the
   recipient, the kind, a JSON snapshot of what the message says, and a unique cause key:
   enqueueing the same cause twice is a no-op, and a rolled-back change leaves no message.
2. The `worker` process (`flask worker`, the Procfile's `worker` line) claims due rows,
   renders each from `templates/email/<kind>.txt` and `.html`, hands it to SMTP (or, in
   development without MAIL_URL, writes it to `instance/mail/`), then records the outcome:
   sent, retried later with backoff, or failed for good (and noted on the order's timeline).

Modules: `models` (the table), `outbox` (`enqueue`, the one generic way in), `notices`
(the order and account messages other areas call), `messages` (rendering), `transport`
(SMTP and files), `worker` (claiming, sending, retries, `flask worker`).

Adding a kind (e.g. for accounts): add its name to `messages.KINDS`, write
`templates/email/<kind>.txt` (with a `subject` block) and `<kind>.html`, both extending
`email/base.*`, and call `outbox.enqueue(kind, recipient, context, cause)` in the
transaction of the change, with a cause key that names that change once (e.g.
`user:7:password-reset:<token id>`). Or use the generic `account` kind through
`notices.enqueue_account_notice`, which needs no template of its own.
"""
