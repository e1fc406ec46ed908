"""Admin sessions kept on the server, so that logging out really ends one.

The signed cookie names a random session id; the row for it (only its hash is
stored) must exist, belong to the same user, and be neither ended nor expired.
Logout ends the row, so a cookie copied before it is worth nothing after; a
password change ends every session of that user.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from models import AdminSession

SESSION_LENGTH = timedelta(hours=12)
KEPT_AFTER_END = timedelta(days=1)  # ended and expired rows are deleted after this


def _hashed(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(session: Session, user: str, now: datetime) -> str:
    """A new session for `user`; the id to put in the cookie."""
    session.execute(delete(AdminSession).where(AdminSession.expires_at < now - KEPT_AFTER_END))
    session_id = secrets.token_urlsafe(32)
    session.add(
        AdminSession(
            id_hash=_hashed(session_id), user=user, created_at=now, expires_at=now + SESSION_LENGTH
        )
    )
    return session_id


def session_is_live(session: Session, session_id: str, user: str, now: datetime) -> bool:
    row = session.get(AdminSession, _hashed(session_id))
    return row is not None and row.user == user and row.ended_at is None and now < row.expires_at


def end_session(session: Session, session_id: str, now: datetime) -> None:
    session.execute(
        update(AdminSession)
        .where(AdminSession.id_hash == _hashed(session_id), AdminSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_sessions_of(session: Session, user: str, now: datetime) -> int:
    """End every live session of `user` (a password change, a disabled account); how many."""
    result = session.execute(
        update(AdminSession)
        .where(AdminSession.user == user, AdminSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
