"""The consent record: every opt-out and opt-in, when, how, and on whose words."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.states import ConsentAction, ConsentSource, values

CONSENT_ACTIONS = values(ConsentAction)
CONSENT_SOURCES = values(ConsentSource)


class ConsentEvent(Base):
    """One change of a customer's consent; rows are only ever added."""

    __tablename__ = "consent_events"
    __table_args__ = (
        Index("ix_consent_events_customer_id_at", "customer_id", "at"),
        CheckConstraint(f"action IN {CONSENT_ACTIONS!r}", name="action"),
        CheckConstraint(f"source IN {CONSENT_SOURCES!r}", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    # The channel the request came by (sms, telegram, console, email), when it came by one.
    channel: Mapped[str | None] = mapped_column(String(10))
    # The customer's message that asked for it, when it was one.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    # Their words, or what the other system or the admin said about it.
    detail: Mapped[str] = mapped_column(Text, default="")
