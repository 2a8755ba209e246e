"""Rendering: an outbox row becomes an email with a plain-text and an HTML part, both from
`templates/email/<kind>.*`. The HTML is autoescaped (Flask's environment escapes `.html`
templates), so nothing a customer or an admin typed reaches it as markup."""

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from jinja2 import Template

#: The shop's name as messages sign it.
SHOP_NAME = "Northside Roastery"
#: Kinds of message, each rendered from templates/email/<kind>.txt (with a `subject`
#: block) and templates/email/<kind>.html. A new kind adds its name and its two templates.
KINDS = frozenset({"receipt", "shipping", "refund", "account"})


@dataclass(frozen=True)
class Outgoing:
    """A claimed outbox row, apart from the database: what the worker renders and sends."""

    id: int
    kind: str
    recipient: str
    context: dict[str, Any]
    message_id: str
    created_at: datetime
    order_id: int | None
    attempts: int
    claim_token: str


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute url into the shop built on PUBLIC_URL, for links that leave it (emails),
    with no request at hand."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def _block(template: Template, name: str, context: dict[str, Any]) -> str:
    """One block of a template rendered on its own (the subject, from the text template)."""
    return "".join(template.blocks[name](template.new_context(context)))


def render(message: Outgoing) -> EmailMessage:
    """The email for an outbox row, in the language it was written in (`language` in its
    context; English for rows written before there was a choice)."""
    with force_locale(message.context.get("language") or "en"):
        return _render(message)


def _render(message: Outgoing) -> EmailMessage:
    """The email for an outbox row: headers, then the text part and its HTML alternative."""
    env = current_app.jinja_env
    context = {
        **message.context,
        "shop_name": SHOP_NAME,
        "orders_url": absolute_url("orders.show"),
        "support_email": current_app.config["SUPPORT_EMAIL"],
        "shop_address": current_app.config["SHOP_ADDRESS"],
    }
    text = env.get_template(f"email/{message.kind}.txt")
    # Headers hold one line: whatever the context says, the subject cannot add a header.
    subject = " ".join(_block(text, "subject", context).split())
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    email.set_content(text.render(context))
    html = env.get_template(f"email/{message.kind}.html")
    email.add_alternative(html.render({**context, "subject": subject}), subtype="html")
    return email
