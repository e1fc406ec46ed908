"""A planned contact with a customer, and the answer it got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from models.base import Base, UTCDateTime
from models.people import Customer
from models.purchase import Purchase
from models.states import SURVEY_KINDS, THROTTLED_KINDS, CheckInKind, CheckInStatus, values

__all__ = ["KINDS", "STATUSES", "SURVEY_KINDS", "THROTTLED_KINDS", "CheckIn", "Response"]

KINDS = values(CheckInKind)
STATUSES = values(CheckInStatus)
# The planner's live rows: those waiting to be sent, and those sent and waiting for an
# answer. Their indexes skip the answered, expired and suppressed (almost every row), so
# closing a check-in does not rewrite them; queries name the states with models.db.in_state.
SCHEDULED = text(f"status = '{CheckInStatus.SCHEDULED}'")
AWAITING = text(f"status = '{CheckInStatus.SENT}'")


class CheckIn(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        # One check-in per customer, kind and subject/period: planning twice is harmless.
        UniqueConstraint("customer_id", "kind", "dedupe_key"),
        # Dispatch claims in (due_at, id) order: with id in the index, no sort.
        Index(
            "ix_checkins_scheduled",
            "due_at",
            "id",
            postgresql_where=SCHEDULED,
            sqlite_where=SCHEDULED,
        ),
        Index("ix_checkins_awaiting", "sent_at", postgresql_where=AWAITING, sqlite_where=AWAITING),
        CheckConstraint(f"kind IN {KINDS!r}", name="kind"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    dedupe_key: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Quiet hours and holds push the send later without moving `due_at`.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    reason: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(10))
    template_key: Mapped[str | None] = mapped_column(String(50))
    template_version: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Held by a person (the Upcoming page): still scheduled, never claimed until resumed.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    purchase: Mapped[Purchase | None] = relationship()

    @property
    def is_survey(self) -> bool:
        return self.kind in SURVEY_KINDS


class Response(Base):
    """The score a customer gave to one check-in (one per check-in, by constraint)."""

    __tablename__ = "responses"
    __table_args__ = (CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str | None] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Whether we still wait for the answer to the follow-up question.
    awaiting_comment: Mapped[bool] = mapped_column(default=False)
    followup_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    checkin: Mapped[CheckIn] = relationship()
