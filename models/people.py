"""Reps (and their managers) and the customers they look after."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from models.base import Base, UTCDateTime
from models.states import Language, Role, values

LANGUAGES = values(Language)
ROLES = values(Role)


def new_link_token() -> str:
    """A token for the Telegram deep link (`?start=` allows 64 chars of [A-Za-z0-9_-])."""
    return secrets.token_urlsafe(18)


def first_name(name: str) -> str:
    """The name a customer is greeted by: the first word of their name."""
    return name.split()[0] if name.strip() else name


class Rep(Base):
    __tablename__ = "reps"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # Stored normalised (email-validator's form: the domain lower-cased), so replies match.
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    # The mail server said the mailbox does not exist (SMTP 550): alerts stop going there
    # until the address changes (CSV import, API), as for a customer.
    email_unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    role: Mapped[str] = mapped_column(String(10), default="rep")
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    # Hours of their own on the business's clock, "Mon-Fri 09:00-18:00" (cadence/working_hours.py);
    # None: the business's hours (cadence/team.py).
    working_hours: Mapped[str | None] = mapped_column(String(100))
    # What their alerts and replies are written in; None: the business's (AFTERCARE_DEFAULT_LANGUAGE).
    language: Mapped[str | None] = mapped_column(String(5))
    # A rep who pressed "Resolve" owes a note: their next text message is taken as it.
    # No foreign key: escalations already point at reps, and a cycle buys nothing here.
    awaiting_note_escalation_id: Mapped[int | None] = mapped_column(Integer)
    awaiting_note_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    manager: Mapped[Rep | None] = relationship(remote_side=[id])


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        # The planner finds customers due a periodic check-in by range scan.
        Index("ix_customers_periodic_anchor_at", "periodic_anchor_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    telegram_link_token: Mapped[str] = mapped_column(
        String(64), unique=True, default=new_link_token
    )
    telegram_unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    # The mail server said the mailbox does not exist (SMTP 550): email is not used until
    # the address changes or the customer writes from it.
    email_unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str] = mapped_column(String(5), default="en")
    timezone: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"), index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the last survey went out; the throttle reads it.
    last_survey_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Periodic check-ins come 90 days after this instant (last survey, or first delivery).
    periodic_anchor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    rep: Mapped[Rep | None] = relationship()

    @property
    def first_name(self) -> str:
        return first_name(self.name)
