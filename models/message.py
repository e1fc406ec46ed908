"""Every message in and out, the outbox, and provider events: processed webhooks, receipts that
came early, Telegram updates that could not be handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from clock import utcnow
from models.base import Base, UTCDateTime
from models.states import MessageStatus, values

# Inbound messages get `processed_at` once their turn (the conversation, or a rep's
# command) has been taken; see MessageStatus for the life of a message.
MESSAGE_STATUSES = values(MessageStatus)  # the life of a message: see MessageStatus


# An inbound message stored but not yet acted on.
WAITING = text("direction = 'in' AND processed_at IS NULL")
# The outbox's live rows: those due to be claimed, and those whose claim holds a lease.
# The hot indexes cover only these, so a message that is sent, delivered or failed (almost
# every row) leaves them alone; queries name the states with models.db.in_state.
QUEUED = text(f"status = '{MessageStatus.QUEUED}'")
LEASED = text(f"status IN ('{MessageStatus.SENDING}', '{MessageStatus.UNCERTAIN}')")
TO_REP = text("rep_id IS NOT NULL")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # A webhook delivered twice stores one message.
        UniqueConstraint("channel", "provider_id"),
        # Each lane claims its own due rows; reconciliation finds leases that ran out.
        Index(
            "ix_messages_queue",
            "lane",
            "next_attempt_at",
            "id",
            postgresql_where=QUEUED,
            sqlite_where=QUEUED,
        ),
        Index(
            "ix_messages_leased",
            "lease_until",
            "id",
            postgresql_where=LEASED,
            sqlite_where=LEASED,
        ),
        # Most messages are to customers: a rep's messages are found without indexing theirs.
        Index("ix_messages_rep_id", "rep_id", postgresql_where=TO_REP, sqlite_where=TO_REP),
        Index("ix_messages_customer_id_id", "customer_id", "id"),
        # The inbox: messages stored by a webhook whose turn is still to be taken, in
        # arrival order, and per sender (a later message waits for an earlier one).
        Index("ix_messages_waiting", "id", postgresql_where=WAITING, sqlite_where=WAITING),
        Index(
            "ix_messages_waiting_sender",
            "channel",
            "address",
            "id",
            postgresql_where=WAITING,
            sqlite_where=WAITING,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" / "out"
    channel: Mapped[str] = mapped_column(String(10))
    purpose: Mapped[str] = mapped_column(String(30), default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id"), index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[list[dict[str, Any]]] | None] = mapped_column(JSON)
    # {"key", "language", "context"}: how the body was made, to render it again
    # for another channel (a blocked Telegram chat falls back to SMS).
    template: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))
    provider_id: Mapped[str | None] = mapped_column(String(100))
    error_code: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # "interactive" (answers, confirmations, rep alerts) or "bulk" (what the bot starts).
    lane: Mapped[str | None] = mapped_column(String(12))
    # Real time (not `tick --now`): when the current attempt was claimed, and the end of its
    # lease; a claim not settled by then is reconciled (its process died, or it timed out).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How a lost claim was settled: "found" (the provider had it), "resent" (it had not),
    # "resent_blind" (the provider cannot tell: the customer may have it twice).
    reconciliation: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Inbound only: when its turn was taken (or given up on); NULL while it waits in the inbox.
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundEvent(Base):
    """A webhook event already processed (Telegram update_id, Twilio callbacks)."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("source", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EarlyReceipt(Base):
    """A delivery receipt for a provider id no message has yet: the receipt overtook the
    outbox recording the id. Applied, then deleted, when the outbox records it; tidied
    after a day if it never does."""

    __tablename__ = "early_receipts"
    # The same receipt delivered twice is kept once.
    __table_args__ = (UniqueConstraint("channel", "provider_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    provider_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12))
    error_code: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class FailedTelegramUpdate(Base):
    """A polled Telegram update whose every attempt failed: kept, with why, for an admin,
    since polling has to move past it (Telegram sends it again otherwise)."""

    __tablename__ = "failed_telegram_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text)  # the last failure, without the bot token
    attempts: Mapped[int] = mapped_column(Integer)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SendBudget(Base):
    """A provider budget shared by every process: pacing (GCRA) and the provider's pauses.

    Times are Unix seconds of the real clock: they pace real requests, whatever
    `tick --now` pretends.
    """

    __tablename__ = "send_budgets"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    # The next free slot ("theoretical arrival time"); a booking moves it on by 1/rate.
    next_slot: Mapped[float] = mapped_column(Float, default=0.0)
    paused_until: Mapped[float | None] = mapped_column(Float)
