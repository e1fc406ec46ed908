"""Alerts still waiting in the outbox for a rep's working day, and what became of the others.

Outside working hours an alert waits in the outbox (escalation.alerts.alert_time). If the
customer changes their score out of the detractors' range before it goes, the alert is
stale: it is withdrawn, and a rep who was never sent anything about the escalation is not
told of the change either. An alert names its escalation in its template's context
(`escalation_id`), which is how it is found here without a column of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation.trail import record
from messaging.outbox.queue import INTERACTIVE
from models import Escalation, Message, Rep
from models.states import MessageStatus, Purpose

# Everything queued for the team about one escalation: its alerts, the customer's words
# relayed to the rep (rep_needs_answer), and earlier notices of a changed score.
ALERTS = (
    Purpose.REP_ALERT,
    Purpose.MANAGER_ALERT,
    Purpose.REP_NEEDS_ANSWER,
    Purpose.REP_SCORE_CHANGED,
)


def _about(message: Message, escalation: Escalation) -> bool:
    context: Any = (message.template or {}).get("context") or {}
    return bool(context.get("escalation_id") == escalation.id)


def withdraw_waiting(session: Session, now: datetime, escalation: Escalation, why: str) -> set[int]:
    """Cancel the alerts about `escalation` that still wait for a working day; the reps
    they were for. An alert a sender has already claimed is left to go."""
    waiting = [
        message
        for message in session.scalars(
            select(Message).where(
                Message.lane == INTERACTIVE,
                Message.status == MessageStatus.QUEUED,
                Message.next_attempt_at > now,
                Message.rep_id.is_not(None),
                Message.purpose.in_(ALERTS),
            )
        )
        if _about(message, escalation)
    ]
    if not waiting:
        return set()
    # Conditional on still being queued: a sender may be claiming it at this moment.
    cancelled = session.execute(
        update(Message)
        .where(Message.id.in_([m.id for m in waiting]), Message.status == MessageStatus.QUEUED)
        .values(status=MessageStatus.CANCELLED, error=why, next_attempt_at=None)
        .returning(Message.id, Message.rep_id),
        execution_options={"synchronize_session": False},
    ).all()
    gone = {message_id for message_id, _ in cancelled}
    for message in waiting:
        if message.id in gone:
            session.expire(message)  # it changed behind the ORM's back
    reps = {rep_id for _, rep_id in cancelled if rep_id is not None}
    for rep in session.scalars(select(Rep).where(Rep.id.in_(reps))):
        record(session, now, escalation.id, "alert_withdrawn", f"to {rep.name}: {why}")
    return reps


def was_sent_about(session: Session, escalation: Escalation, rep: Rep) -> bool:
    """Whether `rep` has been sent (not merely queued) an alert about `escalation`."""
    sent = session.scalars(
        select(Message).where(
            Message.rep_id == rep.id,
            Message.created_at >= escalation.created_at,
            Message.purpose.in_(ALERTS),
            Message.status.not_in((MessageStatus.QUEUED, MessageStatus.CANCELLED)),
        )
    )
    return any(_about(message, escalation) for message in sent)
