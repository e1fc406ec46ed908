"""What providers tell us besides messages: each webhook event once, and delivery receipts
(applied by `messaging.receipts`, or kept there until the outbox records the message's id).

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
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from messaging.once import insert_once
from messaging.receipts import Receipt, apply_early, apply_receipt, keep_early
from models import FailedTelegramUpdate, InboundEvent, Message

T = TypeVar("T")


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


def record_delivery(session: Session, now: datetime, receipt: Receipt) -> str:
    """Record what the provider says became of a message we sent.

    Returns "recorded", "unchanged" (a repeat, or news older than what we know),
    "early" (no message has that id yet: the receipt is kept, and applied when the
    outbox records the id) or "unknown" (the id is an inbound message's).
    """
    message = _by_provider_id(session, receipt)
    if message is None:
        keep_early(session, now, receipt)
        # The outbox may have recorded the id meanwhile: with the lock held, look again.
        message = _by_provider_id(session, receipt)
        if message is None:
            return "early"
        apply_early(session, [(receipt.channel, receipt.provider_id)])
        return "recorded"
    if message.direction != "out":
        return "unknown"
    return apply_receipt(session, now, message, receipt)


def _by_provider_id(session: Session, receipt: Receipt) -> Message | None:
    return session.scalars(
        select(Message)
        .where(Message.channel == receipt.channel, Message.provider_id == receipt.provider_id)
        .with_for_update()
    ).one_or_none()


def keep_failed_update(
    session: Session,
    now: datetime,
    *,
    update_id: int,
    payload: dict[str, Any],
    error: str,
    attempts: int,
) -> bool:
    """Keep a Telegram update that failed every attempt, for an admin; False if kept already."""
    _, inserted = insert_once(
        session,
        FailedTelegramUpdate,
        {
            "update_id": update_id,
            "payload": payload,
            "error": error,
            "attempts": attempts,
            "failed_at": now,
        },
        unique={"update_id": update_id},
    )
    return inserted
