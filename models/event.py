"""The event outbox: one row per (event, receiver), written in the change's own transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.states import EventDeliveryStatus, values

_STATUSES = ", ".join(f"'{status}'" for status in values(EventDeliveryStatus))


class EventDelivery(Base):
    """An event on its way to one receiver: the exact body, and how its delivery goes.

    `created_at` is when the change happened (a `tick --now` time, like everything a
    pass records); the delivery columns are on the real clock, since they pace real
    requests.
    """

    __tablename__ = "event_outbox"
    __table_args__ = (
        # One receiver gets one row per event, whatever retries or processes do.
        UniqueConstraint("event_id", "endpoint"),
        # The worker claims due rows in this order; a lease that ran out is due again.
        Index("ix_event_outbox_status_next_attempt_at", "status", "next_attempt_at", "id"),
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The event's own id, the same in every attempt and for every receiver: receivers
    # de-duplicate on it.
    event_id: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(40))
    endpoint: Mapped[str] = mapped_column(String(2000))
    # The JSON exactly as sent and signed.
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=EventDeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Real clock: written, next due, claimed until, last tried, delivered.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The receiver's HTTP status, or None when it never answered (refused, timed out).
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
