"""Claiming due events and writing down what each attempt did.

The claim is the outbox's pattern (messaging/outbox/claims.py): one conditional
UPDATE over a `SELECT ... FOR UPDATE SKIP LOCKED` (materialised on PostgreSQL),
marking rows `sending` with a lease on the real clock, so several processes
never POST the same row at once. A row whose process died while it was
`sending` is due again when its lease ends: at least once, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from models import EventDelivery
from models.db import claimed
from models.states import EventDeliveryStatus

# Retried for a day, as Stripe does; then the row is dead and shown to admins.
GIVE_UP_AFTER = timedelta(hours=24)
# Delivered rows are kept a week for the admin page, dead ones a month.
KEEP_DELIVERED = timedelta(days=7)
KEEP_DEAD = timedelta(days=30)
ERROR_CHARS = 500


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, ... capped at one hour (about 30 attempts in a day)."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 3600))


@dataclass(frozen=True, slots=True)
class Claimed:
    """An event this process is delivering to one receiver."""

    id: int
    event_id: str
    endpoint: str
    body: str
    attempts: int
    queued_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST did: the receiver's status (None: no answer) and the error, if any."""

    row: Claimed
    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def claim(
    session: Session, *, now: datetime, worker: str, limit: int, lease: timedelta
) -> list[Claimed]:
    """Take up to `limit` rows due at `now` (real clock), longest due first."""
    due_now = or_(
        and_(
            EventDelivery.status == EventDeliveryStatus.PENDING,
            EventDelivery.next_attempt_at <= now,
        ),
        # Claimed by a process that died mid-attempt: its lease ran out.
        and_(
            EventDelivery.status == EventDeliveryStatus.SENDING,
            EventDelivery.lease_until <= now,
        ),
    )
    due = (
        select(EventDelivery.id)
        .where(due_now)
        .order_by(EventDelivery.next_attempt_at, EventDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    taken = (
        update(EventDelivery)
        .where(claimed(session, due, EventDelivery.id), due_now)
        .values(
            status=EventDeliveryStatus.SENDING,
            claimed_by=worker,
            attempts=EventDelivery.attempts + 1,
            lease_until=now + lease,
            last_attempt_at=now,
        )
        .returning(
            EventDelivery.id,
            EventDelivery.event_id,
            EventDelivery.endpoint,
            EventDelivery.body,
            EventDelivery.attempts,
            EventDelivery.queued_at,
        )
    )
    rows = session.execute(taken, execution_options={"synchronize_session": False}).all()
    return sorted((Claimed(*row) for row in rows), key=lambda row: row.id)


def settle(session: Session, now: datetime, worker: str, attempts: list[Attempt]) -> None:
    """Write what the attempts did: delivered, due again after the backoff, or dead.

    Only rows `worker` still holds are written (a lease that ran out was taken over).
    """
    rows = []
    for attempt in attempts:
        row = attempt.row
        if attempt.delivered:
            status, next_at, delivered_at = EventDeliveryStatus.DELIVERED, now, now
        elif now - row.queued_at >= GIVE_UP_AFTER:
            status, next_at, delivered_at = EventDeliveryStatus.DEAD, now, None
        else:
            status, next_at, delivered_at = (
                EventDeliveryStatus.PENDING,
                now + backoff(row.attempts),
                None,
            )
        rows.append(
            {
                "row_id": row.id,
                "status": status,
                "next_at": next_at,
                "delivered_at": delivered_at,
                "http_status": attempt.status,
                "error": (attempt.error or "")[:ERROR_CHARS] or None,
            }
        )
    if not rows:
        return
    session.connection().execute(
        update(EventDelivery)
        .where(
            EventDelivery.id == bindparam("row_id"),
            EventDelivery.status == EventDeliveryStatus.SENDING,
            EventDelivery.claimed_by == worker,
        )
        .values(
            status=bindparam("status"),
            next_attempt_at=bindparam("next_at"),
            delivered_at=bindparam("delivered_at"),
            last_status=bindparam("http_status"),
            last_error=bindparam("error"),
            lease_until=None,
        ),
        rows,
    )


def release(session: Session, worker: str, ids: list[int], now: datetime) -> None:
    """Give claims back untried (shutdown): due at once, and the attempt does not count."""
    if not ids:
        return
    session.execute(
        update(EventDelivery)
        .where(
            EventDelivery.id.in_(ids),
            EventDelivery.status == EventDeliveryStatus.SENDING,
            EventDelivery.claimed_by == worker,
        )
        .values(
            status=EventDeliveryStatus.PENDING,
            attempts=EventDelivery.attempts - 1,
            lease_until=None,
            next_attempt_at=now,
        ),
        execution_options={"synchronize_session": False},
    )


def prune(session: Session, now: datetime) -> int:
    """Forget delivered rows after a week and dead ones after a month; return how many."""
    result = session.execute(
        delete(EventDelivery).where(
            or_(
                and_(
                    EventDelivery.status == EventDeliveryStatus.DELIVERED,
                    EventDelivery.delivered_at < now - KEEP_DELIVERED,
                ),
                and_(
                    EventDelivery.status == EventDeliveryStatus.DEAD,
                    EventDelivery.next_attempt_at < now - KEEP_DEAD,
                ),
            )
        ),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def retry(session: Session, row_id: int, now: datetime) -> bool:
    """Give a dead row another day of attempts, starting now (an admin fixed the receiver)."""
    result = session.execute(
        update(EventDelivery)
        .where(EventDelivery.id == row_id, EventDelivery.status == EventDeliveryStatus.DEAD)
        .values(status=EventDeliveryStatus.PENDING, queued_at=now, next_attempt_at=now),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
