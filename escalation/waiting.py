"""Alerts still waiting in the outbox for a rep's working day, and what became of the others.

Outside working hours an alert waits in the outbox (escalation.alerts.alert_time). If the
customer changes their score before it goes, what waits is stale. A close (out of the
detractors' range) withdraws everything waiting about the escalation, and a rep who was
never sent anything about it is not told of the change either. A change within the range
withdraws what waits for a rep who has read nothing yet, who gets one fresh alert instead
(the new score, the comment) rather than an old one and a notice of the change. An alert
names its escalation in its template's context (`escalation_id`), which is how it is found
here without a column of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation.trail import record
from messaging.outbox.queue import INTERACTIVE
from models import Escalation, Message, Rep
from models.db import in_state
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


def settle_unread(
    session: Session,
    now: datetime,
    escalation: Escalation,
    recipients: list[Rep | None],
    *,
    closed: bool,
    after: int,
) -> dict[int, str | None]:
    """Withdraw what waits about `escalation` after the score changed to `after` (all of it
    on a close, else only what waits for recipients who have read nothing yet). Returns,
    for each of `recipients` who had something withdrawn and had been sent nothing, the
    alert to queue in its place (None on a close: nothing)."""
    waiting = _waiting_about(session, now, escalation)
    if not waiting:  # the usual case (a team around the clock): nothing more to look up
        return {}
    waited_for = {message.rep_id for message in waiting}
    unread = {
        r.id
        for r in recipients
        if r is not None and r.id in waited_for and not was_sent_about(session, escalation, r)
    }
    chosen = waiting if closed else [m for m in waiting if m.rep_id in unread]
    why = f"the customer changed their score to {after} before it went"
    fresh: dict[int, str | None] = {}
    for rep_id, purposes in _withdraw(session, now, escalation, chosen, why).items():
        if rep_id in unread:
            kind = Purpose.MANAGER_ALERT if Purpose.MANAGER_ALERT in purposes else Purpose.REP_ALERT
            fresh[rep_id] = None if closed else kind
    return fresh


def _waiting_about(session: Session, now: datetime, escalation: Escalation) -> list[Message]:
    """The messages to the team about `escalation` still waiting for a working day."""
    return [
        message
        for message in session.scalars(
            select(Message).where(
                Message.lane == INTERACTIVE,
                in_state(Message.status, MessageStatus.QUEUED),
                Message.next_attempt_at > now,
                Message.rep_id.is_not(None),
                Message.purpose.in_(ALERTS),
            )
        )
        if _about(message, escalation)
    ]


def _withdraw(
    session: Session, now: datetime, escalation: Escalation, waiting: list[Message], why: str
) -> dict[int, set[str]]:
    """Cancel `waiting`; for each rep, the purposes withdrawn. A message a sender has
    claimed meanwhile is left to go."""
    if not waiting:
        return {}
    # Conditional on still being queued: a sender may be claiming it at this moment.
    cancelled = session.execute(
        update(Message)
        .where(Message.id.in_([m.id for m in waiting]), Message.status == MessageStatus.QUEUED)
        .values(status=MessageStatus.CANCELLED, error=why, next_attempt_at=None)
        .returning(Message.id, Message.rep_id, Message.purpose),
        execution_options={"synchronize_session": False},
    ).all()
    gone = {message_id for message_id, _, _ in cancelled}
    for message in waiting:
        if message.id in gone:
            session.expire(message)  # it changed behind the ORM's back
    withdrawn: dict[int, set[str]] = {}
    for _, rep_id, purpose in cancelled:
        if rep_id is not None:  # the query took messages to reps only
            withdrawn.setdefault(rep_id, set()).add(purpose)
    for rep in session.scalars(select(Rep).where(Rep.id.in_(withdrawn))):
        record(session, now, escalation.id, "alert_withdrawn", f"to {rep.name}: {why}")
    return withdrawn


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
