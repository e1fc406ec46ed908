"""What admins change at run time: template versions and settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clock import utcnow
from models.base import Base, UTCDateTime


class TemplateVersion(Base):
    """One saved version of an admin-edited message template; the newest wins."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("key", "language", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(5))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppSetting(Base):
    """A named JSON value, e.g. the cadence rules admins changed."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Lease(Base):
    """A named lease held by one process (e.g. the only Telegram poller)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdminSession(Base):
    """A logged-in browser. The cookie holds a random id; this row is what makes it valid.

    Only a hash of the id is stored, so a copy of the database opens no sessions.
    Logging out or changing the password sets `ended_at`, which no cookie can undo.
    """

    __tablename__ = "admin_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Failed logins of one client address ("address:…") or one account ("account:…").

    Shared by every process, and changed only by compare-and-set, so concurrent
    attempts cannot all slip under the limit.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    next_allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
