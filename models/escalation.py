"""An unhappy customer in front of a human, and every step taken on it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from models.base import Base, UTCDateTime
from models.people import Customer, Rep
from models.states import EscalationKind, EscalationStatus, values

ESCALATION_STATUSES = values(EscalationStatus)
ESCALATION_KINDS = values(EscalationKind)


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_status_sla_due_at", "status", "sla_due_at"),
        CheckConstraint(f"status IN {ESCALATION_STATUSES!r}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="detractor")
    # One escalation per response (and per forwarded message), by constraint.
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"), unique=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open")
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    escalated_to_manager_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    # The "did we fix it?" check-in planned after resolution; its score feeds the recovery rate.
    recovery_checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id"), unique=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    rep: Mapped[Rep | None] = relationship(foreign_keys=[rep_id])


class EscalationEvent(Base):
    """The audit trail: who did what to an escalation, and when."""

    __tablename__ = "escalation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")
