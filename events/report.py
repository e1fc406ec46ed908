"""How event delivery stands, for `/metrics` and the admin page: read from the database, so
every process gives the same answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models import EventDelivery
from models.states import EventDeliveryStatus


@dataclass(frozen=True, slots=True)
class Standing:
    """Rows by status, and how long the longest-waiting undelivered event has waited."""

    by_status: dict[str, int]
    oldest_waiting_seconds: float

    @property
    def waiting(self) -> int:
        return (
            self.by_status[EventDeliveryStatus.PENDING]
            + self.by_status[EventDeliveryStatus.SENDING]
        )


def standing(session: Session, now: datetime) -> Standing:
    counts = dict(
        session.execute(
            select(EventDelivery.status, func.count()).group_by(EventDelivery.status)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(EventDelivery.queued_at)).where(
            EventDelivery.status.in_((EventDeliveryStatus.PENDING, EventDeliveryStatus.SENDING))
        )
    )
    return Standing(
        {status.value: int(counts.get(status.value, 0)) for status in EventDeliveryStatus},
        max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0,
    )


def troubles(session: Session, limit: int = 100) -> list[EventDelivery]:
    """Dead rows and rows that failed at least once and wait for a retry, newest attempt first."""
    return list(
        session.scalars(
            select(EventDelivery)
            .where(
                or_(
                    EventDelivery.status == EventDeliveryStatus.DEAD,
                    (EventDelivery.status == EventDeliveryStatus.PENDING)
                    & (EventDelivery.attempts > 0),
                )
            )
            .order_by(EventDelivery.last_attempt_at.desc(), EventDelivery.id.desc())
            .limit(limit)
        )
    )
