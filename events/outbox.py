"""Writing events down: one outbox row per receiver, in the transaction of the change itself.

So an event exists exactly when its change does: a change rolled back (a crash,
`bot.py plan`'s rehearsal) leaves no event, and a committed one always has its
event, however long the receiver is down.

Where events go is a property of the session factory (`send_events_to`), set once
where the process opens its database: every session it makes writes events for
those receivers, and code that records a change needs no settings to do it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from events.types import EventType
from models import EventDelivery
from models.states import EventDeliveryStatus

# The key in `Session.info` under which a session knows its event receivers.
RECEIVERS = "aftercare.event_receivers"


def send_events_to(
    factory: sessionmaker[Session], endpoints: Sequence[str]
) -> sessionmaker[Session]:
    """Make every session of `factory` write its events for `endpoints` (none: no events)."""
    info = dict(factory.kw.get("info") or {})
    info[RECEIVERS] = tuple(endpoints)
    factory.configure(info=info)
    return factory


def receivers(session: Session) -> tuple[str, ...]:
    """The URLs this session writes events for."""
    return tuple(session.info.get(RECEIVERS, ()))


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as receivers' parsers expect."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


Data = dict[str, Any]


def record_event(
    session: Session, now: datetime, type: EventType, data: Data | Callable[[], Data]
) -> str | None:
    """Write event `type` with `data` for every receiver, in the caller's transaction.

    `data` may be a function that builds it: it is called only when there is a receiver,
    so a process without one pays nothing for the payload. Returns the event's id, or None
    when no receiver is configured (nothing written).
    """
    endpoints = receivers(session)
    if not endpoints:
        return None
    event_id = f"evt_{uuid.uuid4().hex}"
    payload = data() if callable(data) else data
    body = json.dumps(
        {"id": event_id, "type": str(type), "created_at": timestamp(now), "data": payload},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    queued = utcnow()
    session.add_all(
        EventDelivery(
            event_id=event_id,
            type=str(type),
            endpoint=endpoint,
            body=body,
            created_at=now,
            status=EventDeliveryStatus.PENDING,
            attempts=0,
            queued_at=queued,
            next_attempt_at=queued,
        )
        for endpoint in endpoints
    )
    return event_id
