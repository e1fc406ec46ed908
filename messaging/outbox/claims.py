"""Claiming due messages, and giving claims back.

A claim is one conditional UPDATE (row locks with SKIP LOCKED on PostgreSQL;
SQLite serialises writers) that marks the rows `sending`, counts the attempt,
and sets a lease on the real clock. The provider call happens outside any
transaction; a claim that is never settled is reconciled when its lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, select, update
from sqlalchemy.orm import Session

from models import Customer, Message
from models.db import claimed, in_state, one_of
from models.states import MessageStatus


@dataclass(slots=True)
class Claimed:
    """A message this process holds, with what sending it needs."""

    id: int
    channel: str
    address: str
    body: str
    buttons: Any
    customer_id: int | None
    checkin_id: int | None
    purpose: str
    attempts: int
    rep_id: int | None  # set on messages to reps
    # Where a reply should go, for channels that take one (`takes_reply_to`): the email
    # of the customer's rep; None for messages to reps and customers without one.
    reply_to: str | None = None
    # Unix time by which the provider call must have started, or the claim is given back:
    # a send that starts later could outlive the lease, and be reconciled while in flight.
    start_by: float = 0.0


_RETURNING = (
    Message.id,
    Message.channel,
    Message.address,
    Message.body,
    Message.buttons,
    Message.customer_id,
    Message.checkin_id,
    Message.purpose,
    Message.attempts,
    Message.rep_id,
)


def claim(
    session: Session,
    *,
    lane: str,
    now: datetime,
    worker: str,
    limit: int,
    claimed_at: datetime,
    lease_until: datetime,
) -> list[Claimed]:
    """Take up to `limit` of the lane's messages due at `now`, longest due first.

    `claimed_at` and `lease_until` are on the real clock, whatever `now` pretends.
    """
    due = (
        select(Message.id)
        .where(
            Message.lane == lane,
            in_state(Message.status, MessageStatus.QUEUED),  # the partial index's own condition
            Message.next_attempt_at <= now,
        )
        .order_by(Message.next_attempt_at, Message.id)  # the index's order: no sort
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    taken = (
        update(Message)
        .where(claimed(session, due, Message.id), Message.status == MessageStatus.QUEUED)
        .values(
            status="sending",
            claimed_by=worker,
            attempts=Message.attempts + 1,
            claimed_at=claimed_at,
            lease_until=lease_until,
        )
        .returning(*_RETURNING)
    )
    rows = session.execute(taken, execution_options={"synchronize_session": False}).all()
    return sorted((Claimed(*row) for row in rows), key=lambda m: m.id)


def still_held(worker: str) -> tuple[ColumnElement[bool], ...]:
    """The message (bound as `message_id`) is still claimed by `worker`: an outcome written
    after reconciliation took the claim over must change nothing."""
    return (
        Message.id == bindparam("message_id"),
        Message.status == MessageStatus.SENDING,
        Message.claimed_by == worker,
    )


def release(session: Session, worker: str, ids_and_times: list[tuple[int, datetime]]) -> None:
    """Give claims back unsent, due again at the given times; the attempt does not count."""
    if not ids_and_times:
        return
    statement = (
        update(Message)
        .where(*still_held(worker))
        .values(
            status="queued",
            attempts=Message.attempts - 1,
            lease_until=None,
            next_attempt_at=bindparam("due"),
        )
    )
    session.connection().execute(
        statement, [{"message_id": i, "due": due} for i, due in ids_and_times]
    )


def opted_out(session: Session, customer_ids: set[int]) -> set[int]:
    """Those of `customer_ids` who have opted out."""
    if not customer_ids:
        return set()
    return set(
        session.scalars(
            select(Customer.id).where(
                one_of(session, Customer.id, customer_ids), Customer.opted_out_at.is_not(None)
            )
        )
    )
