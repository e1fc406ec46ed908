"""The answers the write API gave to requests that carried an Idempotency-Key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class IdempotencyKey(Base):
    """One key's first successful answer, replayed to a retry for 24 hours.

    The key is the primary key, so two processes answering the same retry at
    once cannot both write: the second insert fails and that request replays.
    """

    __tablename__ = "api_idempotency_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 of the method, path and canonical JSON body: a different request under an old key.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
