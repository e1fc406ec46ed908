"""The audit trail: who did what, when, in the admin UI and on the command line.

Entries are only ever added, in the same transaction as the change they
describe, so a change that rolls back leaves no entry and no change goes
unrecorded. (Escalations keep their own, finer trail in escalation_events.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEntry

ACTOR_CHARS, TARGET_CHARS, DETAIL_CHARS = 200, 200, 2000


def record(
    session: Session, now: datetime, actor: str, action: str, target: str = "", detail: str = ""
) -> None:
    """Add one entry; texts are cut to the columns' size."""
    session.add(
        AuditEntry(
            at=now,
            actor=actor[:ACTOR_CHARS],
            action=action[:50],
            target=target[:TARGET_CHARS],
            detail=detail[:DETAIL_CHARS],
        )
    )


def recent(
    session: Session, *, actor: str = "", action: str = "", limit: int = 200
) -> Sequence[AuditEntry]:
    """The newest entries first, optionally only one actor's or one action's."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    return session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    ).all()


def actions(session: Session) -> list[str]:
    """Every action the trail holds, for the page's filter."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
