"""The people who log in to the admin UI, what they did there, and the secrets every process shares."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from models.base import Base, UTCDateTime
from models.people import ROLES, Rep


class User(Base):
    """A login: an admin, a manager or a rep, with an argon2 password hash.

    A manager's or rep's user points at their `Rep`: what they may see follows
    from it (their own customers; a manager's, their team's). A disabled user
    cannot log in, and the row stays for the audit trail.
    """

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    rep: Mapped[Rep | None] = relationship()


class AuditEntry(Base):
    """One thing a person did: a login (or a failed one), an edit, a user change, an action."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class StoredSecret(Base):
    """A key generated once and shared by every process (the session cookie's signing key)."""

    __tablename__ = "stored_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
