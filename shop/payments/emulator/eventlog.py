"""The emulator's record of events: written inside a state change's transaction, read by
`GET /v1/events` and by delivery."""

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from . import errors, shapes
from .models import EmulatorDelivery, EmulatorEvent
from .store import created_filter, keyset_page

_clock = threading.Lock()
_last_seq = 0


@dataclass(frozen=True)
class Origin:
    """The API request that caused an event (Stripe's `request` on the event), if any."""

    request_id: str | None = None
    idempotency_key: str | None = None


#: Events no API request caused: a payment on the hosted page, an expiry by time.
AUTOMATIC = Origin()


def _next_seq() -> int:
    """A creation time in nanoseconds, strictly increasing within this process."""
    global _last_seq
    with _clock:
        _last_seq = max(time.time_ns(), _last_seq + 1)
        return _last_seq


def add_event(
    s: Session,
    event_type: str,
    obj: dict[str, Any],
    now: int,
    origin: Origin = AUTOMATIC,
    previous: dict[str, Any] | None = None,
) -> EmulatorEvent:
    """Record an event about `obj` (delivered after the transaction commits)."""
    event_id = shapes.new_id("evt_")
    body = shapes.event(
        event_id, event_type, obj, now, origin.request_id, origin.idempotency_key, previous
    )
    event = EmulatorEvent(
        id=event_id, type=event_type, created=now, seq=_next_seq(),
        payload=json.dumps(body, indent=2),
    )  # fmt: skip
    s.add(event)
    return event


def get_event(s: Session, event_id: str, param: str = "id") -> EmulatorEvent:
    """The event with this id, or Stripe's 404."""
    event = s.get(EmulatorEvent, event_id)
    if event is None:
        raise errors.no_such("event", event_id, param)
    return event


def _type_condition(name: str):
    """SQL for one `type` filter; `*` matches any run of characters, as at Stripe."""
    if "*" not in name:
        return EmulatorEvent.type == name
    pattern = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return EmulatorEvent.type.like(pattern.replace("*", "%"), escape="\\")


def list_events(s: Session, query: dict[str, Any]) -> tuple[list[EmulatorEvent], bool]:
    """A page of events, newest first, filtered by type(s), `created` and delivery."""
    stmt = select(EmulatorEvent).where(*created_filter(EmulatorEvent.created, query["created"]))
    if query["types"]:
        stmt = stmt.where(or_(*(_type_condition(name) for name in query["types"])))
    if query["delivery_success"] is not None:
        delivered = exists().where(
            EmulatorDelivery.event_id == EmulatorEvent.id,
            EmulatorDelivery.status_code.between(200, 299),
        )
        stmt = stmt.where(delivered if query["delivery_success"] else ~delivered)

    def cursor(event_id: str, param: str) -> tuple:
        """The position of the event a cursor names."""
        event = get_event(s, event_id, param)
        return event.seq, event.id

    return keyset_page(s, stmt, (EmulatorEvent.seq, EmulatorEvent.id), cursor, query)


def undelivered_event_ids(s: Session) -> list[str]:
    """Events recorded but never delivered (API expiries, or any with webhooks off)."""
    delivered = select(EmulatorDelivery.event_id)
    stmt = select(EmulatorEvent.id).where(EmulatorEvent.id.not_in(delivered))
    return list(s.scalars(stmt.order_by(EmulatorEvent.seq, EmulatorEvent.id)))
