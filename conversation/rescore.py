"""A customer's corrected score (another number clicked soon after the first) and the
detractor escalation it opened: withdrawn when the score leaves detractors, back when
it returns.

The escalation is resolved by the customer, with a trail entry saying they changed
the score, and no recovery check-in follows (there was nothing to recover from): a
suppressed one is recorded in its place, with the reason. The rep hears of the change
once (the caller relays it); nobody hears of it twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from escalation.actions import resolve
from escalation.trail import record
from models import CheckIn, Escalation
from models.states import CheckInKind, CheckInStatus, EscalationKind, EscalationStatus

# How the withdrawal reads in the trail and the resolution note (for staff; English like the trail).
CHANGED_NOTE = "the customer changed the score from {before} to {after}"


def withdraw(
    session: Session, now: datetime, escalation: Escalation, before: int, after: int, actor: str
) -> bool:
    """Resolve a detractor escalation the customer's new score leaves behind; False when
    it was not open (already resolved, or not a detractor's)."""
    if (
        escalation.kind != EscalationKind.DETRACTOR
        or escalation.status == EscalationStatus.RESOLVED
    ):
        return False
    note = CHANGED_NOTE.format(before=before, after=after)
    outcome = resolve(session, now, escalation, note=note, via="score change", actor=actor)
    if not outcome.changed:
        return False
    recovery = CheckIn(
        customer_id=escalation.customer_id,
        kind=CheckInKind.RECOVERY,
        dedupe_key=f"e{escalation.id}",
        due_at=now,
        status=CheckInStatus.SUPPRESSED,
        reason=f"no recovery check: {note}",
        created_at=now,
    )
    session.add(recovery)
    session.flush()
    escalation.recovery_checkin_id = recovery.id
    return True


def reopen(
    session: Session, now: datetime, escalation: Escalation, before: int, after: int, actor: str
) -> bool:
    """Open again a detractor escalation withdrawn by a score change, when the score falls
    back into detractors; False when it was not withdrawn that way."""
    if (
        escalation.kind != EscalationKind.DETRACTOR
        or escalation.status != EscalationStatus.RESOLVED
        or escalation.resolved_by_id is not None
        or not (escalation.resolution_note or "").startswith(CHANGED_NOTE.split("{")[0])
    ):
        return False
    recovery_id = escalation.recovery_checkin_id
    if escalation.acknowledged_by_id is None:  # resolving acknowledged it only on paper
        escalation.status, escalation.acknowledged_at = EscalationStatus.OPEN, None
    else:
        escalation.status = EscalationStatus.ACKNOWLEDGED
    escalation.resolved_at = None
    escalation.resolution_note = None
    escalation.recovery_checkin_id = None
    session.flush()
    if recovery_id is not None:
        session.execute(
            delete(CheckIn).where(
                CheckIn.id == recovery_id, CheckIn.status == CheckInStatus.SUPPRESSED
            )
        )
    record(
        session,
        now,
        escalation.id,
        "reopened",
        CHANGED_NOTE.format(before=before, after=after),
        actor=actor,
    )
    return True
