"""Storing an inbound message for its turn, and taking that turn once, in order per sender."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from clock import as_utc, utcnow
from conversation.inbound import Inbound, hand_on, identify, stored_values, within_limits
from messaging.privacy import masked
from models import Message
from models.states import Purpose
from settings import Settings

log = logging.getLogger(__name__)

# A turn that fails (the database went away, a bug) is tried again after 1, 2, 4, 8 s;
# after that it is given up on, logged, so the sender's later messages are not held forever.
MAX_ATTEMPTS = 5
# Turns looked for at once; the worker takes them one after another.
BATCH = 100


def store(session: Session, inbound: Inbound) -> bool:
    """Store an inbound message for its turn, once per (channel, provider id); True when new.

    One statement, INSERT ... ON CONFLICT DO NOTHING: a provider's retry, even one
    racing the first delivery, stores nothing and is acknowledged all the same.
    """
    return bool(store_many(session.connection(), [inbound]))


def store_many(connection: Connection, inbounds: list[Inbound]) -> int:
    """`store` each of `inbounds` with one statement (atomic even outside a transaction);
    returns how many were new."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    rows = [_row(inbound) for inbound in inbounds]
    result = connection.execute(insert(Message).values(rows).on_conflict_do_nothing())
    return result.rowcount


def _row(inbound: Inbound) -> dict[str, Any]:
    inbound = within_limits(inbound)
    return {
        **stored_values(inbound, as_utc(inbound.received_at)),
        "purpose": Purpose.NONE,
        "attempts": 0,
    }


class _NotYet(Exception):
    """An earlier message from the same sender is still waiting: this one's turn rolls back."""


def _waiting(entity: Any) -> ColumnElement[bool]:
    return and_(entity.direction == "in", entity.processed_at.is_(None))


def due_turns(session: Session, now: datetime, limit: int = BATCH) -> list[int]:
    """Messages whose turn can be taken now, oldest first: each sender's oldest waiting one.

    One pass over the waiting messages (a small partial index), whatever the
    statistics say: a per-row NOT EXISTS was planned as a nested loop over all of them.
    """
    heads = (
        select(func.min(Message.id).label("id"))
        .where(_waiting(Message))
        .group_by(Message.channel, Message.address)
        .subquery()
    )
    return list(
        session.scalars(
            select(Message.id)
            .join(heads, heads.c.id == Message.id)
            .where(Message.next_attempt_at.is_(None) | (Message.next_attempt_at <= now))
            .order_by(Message.id)
            .limit(limit)
        )
    )


def take_turn(factory: sessionmaker[Session], message_id: int, settings: Settings) -> str:
    """Act on one stored message in its own transaction.

    Returns "done"; "taken" when it is done already or another process is at it;
    "later" while an earlier message from the same sender waits; "failed" (its
    work rolled back, tried again later).
    """
    try:
        with factory.begin() as session:
            message = _claim(session, message_id)
            if message is None:
                return "taken"
            if _earlier_waiting(session, message):
                raise _NotYet
            inbound = Inbound(
                channel=message.channel,
                address=message.address,
                text=message.body,
                provider_id=message.provider_id or "",
                received_at=message.created_at,
            )
            customer, rep = identify(session, inbound)
            message.customer_id = customer.id if customer else None
            message.rep_id = rep.id if rep else None
            # The conversation runs as of the moment the message arrived, however late.
            hand_on(session, message.created_at, inbound, message, customer, rep, settings)
    except _NotYet:
        return "later"
    except Exception as error:  # noqa: BLE001 - the message stays; it is tried again
        log.exception("turn of inbound message %s failed", message_id)
        _failed(factory, message_id, error)
        return "failed"
    return "done"


def _claim(session: Session, message_id: int) -> Message | None:
    """The message, marked processed in this transaction, or None if it is not ours to take.

    On PostgreSQL the row lock is the claim (another taker skips it, and a crash
    releases it); on SQLite the conditional UPDATE takes the database's write lock.
    """
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        message = session.scalar(
            select(Message)
            .where(Message.id == message_id, _waiting(Message))
            .with_for_update(skip_locked=True)
        )
        if message is not None:
            message.processed_at = now
        return message
    marked = session.execute(
        update(Message).where(Message.id == message_id, _waiting(Message)).values(processed_at=now),
        execution_options={"synchronize_session": False},
    )
    if not marked.rowcount:  # type: ignore[attr-defined]
        return None
    return session.get_one(Message, message_id)


def _earlier_waiting(session: Session, message: Message) -> bool:
    earlier = session.scalar(
        select(Message.id)
        .where(
            _waiting(Message),
            Message.channel == message.channel,
            Message.address == message.address,
            Message.id < message.id,
        )
        .limit(1)
    )
    return earlier is not None


def _failed(factory: sessionmaker[Session], message_id: int, error: Exception) -> None:
    try:
        with factory.begin() as session:
            message = session.get(Message, message_id)
            if message is None or message.processed_at is not None:
                return
            message.attempts += 1
            message.error = repr(error)[:500]
            if message.attempts >= MAX_ATTEMPTS:
                log.error(
                    "gave up on inbound message %s from %s after %d attempts",
                    message_id,
                    masked(message.address),
                    message.attempts,
                )
                message.processed_at = utcnow()
            else:
                message.next_attempt_at = utcnow() + timedelta(seconds=2 ** (message.attempts - 1))
    except Exception:  # noqa: BLE001 - the database again: the turn is simply tried again
        log.exception("could not record the failed turn of inbound message %s", message_id)


def take_turns(factory: sessionmaker[Session], settings: Settings) -> Counter[str]:
    """Take every turn that can be taken now, oldest first, until none is left (commands, tests)."""
    outcomes: Counter[str] = Counter()
    while True:
        with factory() as session:
            due = due_turns(session, utcnow())
        this_pass = Counter(take_turn(factory, message_id, settings) for message_id in due)
        outcomes += this_pass
        if not this_pass["done"]:
            return outcomes  # nothing left, or only what another process is taking
