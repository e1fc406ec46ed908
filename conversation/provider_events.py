"""What providers tell us besides messages: each webhook event once, and delivery receipts.

Twilio and Telegram redeliver webhooks (a slow answer, a retry, a second
poller). `process_once` lets the database decide which delivery does the
work: the event's key is inserted first, in the same transaction as the work,
so a repeat (even a concurrent one) finds the key and changes nothing, while
a failure rolls the key back and the provider's retry is processed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from events import EventType, record_event
from events.payloads import message_data
from messaging.once import insert_once
from models import CheckIn, InboundEvent, Message

T = TypeVar("T")

# Survey-like messages whose failed delivery means the check-in never reached the customer.
CHECKIN_PURPOSES = ("survey", "delay_notice", "reminder")
# A later report never moves a message back (callbacks arrive out of order).
_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}


@dataclass(frozen=True)
class Once(Generic[T]):
    """The outcome of `process_once`: `result` is None when the event was a repeat."""

    duplicate: bool
    result: T | None = None


def process_once(
    factory: sessionmaker[Session],
    *,
    source: str,
    key: str,
    now: datetime,
    work: Callable[[Session], T],
) -> Once[T]:
    """Run `work` in one transaction unless the event (source, key) was processed already."""
    identity = {"source": source, "key": key[:100]}
    with factory.begin() as session:
        _, inserted = insert_once(
            session, InboundEvent, {**identity, "received_at": now}, unique=identity
        )
        if not inserted:
            return Once(duplicate=True)
        return Once(duplicate=False, result=work(session))


def record_delivery(
    session: Session,
    now: datetime,
    *,
    channel: str,
    provider_id: str,
    status: str,
    error_code: str | None = None,
    error: str | None = None,
) -> str:
    """Record what the provider says became of a message we sent.

    Returns "recorded", "unchanged" (a repeat, or news older than what we know)
    or "unknown" (no message of ours has that id, or not yet: see below). A survey
    that was undelivered or failed marks its check-in failed, with the provider's
    reason, so an admin sees why the customer never answered.
    """
    message = session.scalars(
        select(Message)
        .where(Message.channel == channel, Message.provider_id == provider_id)
        .with_for_update()
    ).one_or_none()
    if message is None or message.direction != "out":
        # The outbox records provider ids after its batch: a quick receipt can come first.
        return "unknown"
    current = _RANK.get(message.status)
    if status not in _RANK or current is None or current >= _RANK[status]:
        return "unchanged"  # a repeat, a late "sent" after "delivered", a message given up on
    message.status = status
    if status == "delivered":
        message.delivered_at = now
    elif status in ("undelivered", "failed"):
        message.error_code, message.error = error_code, error or status
        _mark_checkin(session, now, message)
        # Accepted by the provider, then lost on the way (a carrier's refusal, a dead number).
        record_event(session, now, EventType.MESSAGE_FAILED, lambda: message_data(session, message))
    return "recorded"


def _mark_checkin(session: Session, now: datetime, message: Message) -> None:
    if message.checkin_id is None or message.purpose not in CHECKIN_PURPOSES:
        return
    checkin = session.get(CheckIn, message.checkin_id, with_for_update=True)
    if checkin is None or checkin.status != "sent":
        return  # answered or closed meanwhile: the customer got through some other way
    if message.purpose == "reminder":
        checkin.error = f"reminder not delivered: {message.error}"
        return
    checkin.status, checkin.error, checkin.closed_at = "failed", message.error, now
    checkin.reason = f"not delivered: {message.error}"
