"""The consent record: every opt-out and opt-in is written down, with its source and words.

A business must be able to answer "when and how did this person opt out?" years
later; the customer row only says whether they are opted out now. Rows are only
ever added, in the same transaction as the change they record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from events import EventType, record_event
from events.payloads import consent_data
from models import ConsentEvent, Customer, Message

# What a row keeps of the customer's words: a whole SMS is 1,600 characters at most.
MAX_DETAIL = 2000


def record_consent(
    session: Session,
    now: datetime,
    customer: Customer,
    action: str,
    source: str,
    *,
    channel: str | None = None,
    message_id: int | None = None,
    detail: str | None = None,
) -> ConsentEvent:
    """Write down one opt-out or opt-in (`action`), in the caller's transaction.

    `detail` defaults to the words of the customer's message that asked (`message_id`).
    """
    if detail is None:
        message = session.get(Message, message_id) if message_id is not None else None
        detail = message.body if message is not None else ""
    event = ConsentEvent(
        customer_id=customer.id,
        at=now,
        action=action,
        source=source,
        channel=channel,
        message_id=message_id,
        detail=detail[:MAX_DETAIL],
    )
    session.add(event)
    kind = EventType.CUSTOMER_OPTED_OUT if action == "opt_out" else EventType.CUSTOMER_OPTED_IN
    record_event(session, now, kind, lambda: consent_data(customer, now, source, channel))
    return event


def consent_history(session: Session, customer_id: int) -> list[ConsentEvent]:
    """The customer's opt-outs and opt-ins, oldest first."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.customer_id == customer_id)
            .order_by(ConsentEvent.at, ConsentEvent.id)
        )
    )


CSV_COLUMNS = ("customer_external_id", "at", "action", "source", "channel", "message_id", "detail")


def consent_rows(rows: Iterable[tuple[str, ConsentEvent]]) -> Iterator[tuple[str, ...]]:
    """The record as rows of CSV_COLUMNS: one per (customer external id, event), times in UTC."""
    for external_id, event in rows:
        yield (
            external_id,
            event.at.isoformat(),
            event.action,
            event.source,
            event.channel or "",
            str(event.message_id or ""),
            event.detail,
        )
