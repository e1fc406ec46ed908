"""Named leases in the database: one holder at a time across every `run` process.

The Telegram poller uses one, because Telegram allows a single getUpdates
caller per token. A holder renews its lease well before it expires; a
process that dies simply stops renewing, and another takes over after the TTL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import Lease


def hold(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew lease `name` for `holder` until now + ttl; False while another holds it."""
    renewed = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
        .values(holder=holder, expires_at=now + ttl),
        execution_options={"synchronize_session": False},
    )
    if renewed.rowcount:  # type: ignore[attr-defined]
        return True
    # No such lease yet: the database decides between two processes creating it at once.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    created = session.scalar(
        insert(Lease)
        .values(name=name, holder=holder, expires_at=now + ttl)
        .on_conflict_do_nothing()
        .returning(Lease.name)
    )
    return created is not None


def release(session: Session, name: str, holder: str) -> None:
    """Give lease `name` up, if `holder` still has it."""
    session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
