"""The audit trail of an escalation: every state change and message, who and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import EscalationEvent

# The actor named when Aftercare itself acted (opened, alerted, escalated).
SYSTEM = "aftercare"


def record(
    session: Session,
    now: datetime,
    escalation_id: int,
    action: str,
    detail: str = "",
    *,
    actor: str = SYSTEM,
) -> None:
    """Add one event to the escalation's trail (in the caller's transaction)."""
    session.add(
        EscalationEvent(
            escalation_id=escalation_id, at=now, actor=actor[:200], action=action, detail=detail
        )
    )
