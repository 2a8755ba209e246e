"""Handing a rendered email over: to the SMTP server MAIL_URL names, or (development
without MAIL_URL) to an .eml file under instance/mail/.

The standard library does it all: `smtplib` speaks SMTP, SMTPS, STARTTLS and AUTH, and
`email.message.EmailMessage` builds the MIME parts.
"""

import contextlib
import hashlib
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol

from flask import Flask

from ..config import MailServer

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """The message did not go out. Permanent: the server refused it for good (an unknown
    mailbox); otherwise it may succeed later (server down, busy, a timeout, a login)."""

    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.permanent = permanent


class Transport(Protocol):
    """Something that sends one email or raises SendFailed."""

    def send(self, email: EmailMessage) -> None:
        """Send `email`, or raise SendFailed."""


def _refused_for_good(codes: list[int]) -> bool:
    """SMTP 5xx replies are final; 4xx ask to try again later."""
    return bool(codes) and all(500 <= code < 600 for code in codes)


class SmtpTransport:
    """SMTP with one connection per message: a shop sends a few messages a minute, and a
    fresh connection cannot have been dropped by the server while idle."""

    def __init__(self, server: MailServer, timeout: float):
        self.server = server
        self.timeout = timeout

    def _connect(self) -> smtplib.SMTP:
        """A connection, over TLS when MAIL_URL asks, logged in when it carries a user."""
        server = self.server
        if server.security == "tls":
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            if server.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if server.username:
                smtp.login(server.username, server.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, email: EmailMessage) -> None:
        """Hand `email` to the server; SendFailed says whether trying again may help."""
        try:
            smtp = self._connect()
        except (smtplib.SMTPException, OSError) as error:
            raise SendFailed(f"cannot reach or log in to the SMTP server: {error!r}") from error
        try:
            smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise SendFailed(
                f"recipient refused: {error.recipients}", _refused_for_good(codes)
            ) from error
        except smtplib.SMTPDataError as error:
            permanent = _refused_for_good([error.smtp_code])
            raise SendFailed(f"message refused: {error!r}", permanent) from error
        except (smtplib.SMTPException, OSError) as error:
            raise SendFailed(f"sending failed: {error!r}") from error
        finally:
            # The message is accepted once DATA is answered; a failing QUIT changes nothing.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            smtp.close()


def eml_name(email: EmailMessage) -> str:
    """`20261206-143005-receipt-3f9c2a1b.eml`: when it was written (its Date), its kind (the
    first word of its Message-ID, `outbox.message_id`) and a digest of that id, so the files sort by
    time, say what they are, and a retry rewrites the same file."""
    message_id = email["Message-ID"] or ""
    local = message_id.strip("<>").split("@", 1)[0]
    kind = re.sub(r"[^a-z]+", "", local.split(".", 1)[0].lower()) or "message"
    try:
        when = parsedate_to_datetime(email["Date"]).strftime("%Y%m%d-%H%M%S")
    except (TypeError, ValueError):
        when = "undated"
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:8]
    return f"{when}-{kind}-{digest}.eml"


class FileTransport:
    """Development without MAIL_URL: each message is written to `<directory>/<name>.eml`
    (`eml_name`: date, kind, and a digest of its Message-ID, so a retry rewrites the same
    file) and logged."""

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def send(self, email: EmailMessage) -> None:
        """Write `email` as an .eml file any mail client opens."""
        path = self.directory / eml_name(email)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path.write_bytes(email.as_bytes())
        except OSError as error:
            raise SendFailed(f"cannot write {path}: {error}") from error
        log.info(
            "mail written to a file (no MAIL_URL)",
            extra={"fields": {"path": str(path), "to": email["To"], "subject": email["Subject"]}},
        )


def transport_for(app: Flask) -> Transport:
    """SMTP when MAIL_URL is set, files under instance/mail/ otherwise."""
    server = app.config["MAIL_SERVER"]
    if server is None:
        return FileTransport(app.config["MAIL_DIRECTORY"])
    return SmtpTransport(server, app.config["MAIL_TIMEOUT"])
