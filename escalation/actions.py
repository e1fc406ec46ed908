"""What a human does to an escalation: acknowledge, resolve, reassign.

Every change is one conditional UPDATE ("... WHERE status = 'open'"), so two
presses of the same button, an SMS and a Telegram tap, or two processes racing
change the escalation once; the loser sees `changed=False` and nothing else
happens. Every change writes an EscalationEvent, the escalation's audit trail.

Reps act through `escalation.commands` (which checks they may); the admin UI
calls `acknowledge(session, now, escalation_id=..., actor=...)` and
`resolve(session, now, escalation_id=..., actor=..., note=...)`; `add_note` writes a
note into the trail without changing the status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, update
from sqlalchemy.orm import Session

from escalation.alerts import queue_alert
from escalation.trail import record
from events import EventType, record_event
from events.payloads import escalation_data
from messaging.compose import TemplateBook
from models import Escalation, Rep
from models.states import EscalationKind, EscalationStatus, Purpose
from settings import Settings

NOTE_CHARS = 2000


@dataclass(frozen=True)
class Outcome:
    """The escalation after the action, and whether this call changed it."""

    escalation: Escalation
    changed: bool


def who(rep: Rep | None, actor: str | None = None) -> str:
    """How a person appears in the audit trail."""
    if actor:
        return actor
    return f"{rep.name} ({rep.external_id})" if rep is not None else "someone"


def acknowledge(
    session: Session,
    now: datetime,
    escalation: Escalation | None = None,
    rep: Rep | None = None,
    via: str = "admin",
    *,
    escalation_id: int | None = None,
    actor: str | None = None,
) -> Outcome:
    """Mark an open escalation acknowledged by `rep` (or `actor`); a second time changes nothing."""
    target = _target(session, escalation, escalation_id)
    changed = _transition(
        session,
        target,
        ("open",),
        status="acknowledged",
        acknowledged_at=now,
        acknowledged_by_id=rep.id if rep is not None else None,
    )
    if changed:
        record(session, now, target.id, "acknowledged", f"via {via}", actor=who(rep, actor))
        record_event(
            session,
            now,
            EventType.ESCALATION_ACKNOWLEDGED,
            lambda: escalation_data(session, target, who(rep, actor)),
        )
    return Outcome(target, changed)


def resolve(
    session: Session,
    now: datetime,
    escalation: Escalation | None = None,
    rep: Rep | None = None,
    note: str = "",
    via: str = "admin",
    *,
    escalation_id: int | None = None,
    actor: str | None = None,
) -> Outcome:
    """Resolve with `note`: records who and when, and starts the recovery check-in's clock.

    Resolving an escalation nobody acknowledged acknowledges it too (someone
    clearly took it). Resolving a resolved one changes nothing.
    """
    target = _target(session, escalation, escalation_id)
    note = note.strip()[:NOTE_CHARS]
    by = rep.id if rep is not None else None
    changed = _transition(
        session,
        target,
        ("open", "acknowledged"),
        status="resolved",
        resolved_at=now,
        resolved_by_id=by,
        resolution_note=note or None,
        acknowledged_at=func.coalesce(Escalation.acknowledged_at, now),
        acknowledged_by_id=func.coalesce(Escalation.acknowledged_by_id, by),
    )
    if changed:
        record(session, now, target.id, "resolved", f"via {via}: {note}", actor=who(rep, actor))
        record_event(
            session,
            now,
            EventType.ESCALATION_RESOLVED,
            lambda: escalation_data(session, target, who(rep, actor)),
        )
        forget_pending_notes(session, target.id)
    return Outcome(target, changed)


def reassign(
    session: Session,
    now: datetime,
    escalation: Escalation,
    new_rep: Rep,
    by: Rep | None,
    *,
    actor: str | None = None,
    settings: Settings,
    book: TemplateBook | None = None,
) -> Outcome:
    """Give an unresolved escalation to `new_rep`, who gets the rep alert at once.

    The SLA clock is not restarted and the manager reminders already sent still
    count: handing a case around does not buy time.
    """
    session.refresh(escalation)
    if escalation.status == EscalationStatus.RESOLVED or escalation.rep_id == new_rep.id:
        return Outcome(escalation, False)
    previous = session.get(Rep, escalation.rep_id) if escalation.rep_id is not None else None
    changed = _transition(
        session,
        escalation,
        ("open", "acknowledged"),
        rep_id=new_rep.id,
        extra=Escalation.rep_id == escalation.rep_id
        if escalation.rep_id is not None
        else Escalation.rep_id.is_(None),
    )
    if not changed:
        return Outcome(escalation, False)
    was = f"{previous.name} ({previous.external_id})" if previous is not None else "nobody"
    detail = f"from {was} to {new_rep.name} ({new_rep.external_id})"
    record(session, now, escalation.id, "reassigned", detail, actor=who(by, actor))
    queue_alert(
        session,
        now,
        escalation,
        new_rep,
        Purpose.REP_ALERT
        if escalation.kind == EscalationKind.DETRACTOR
        else Purpose.REP_NEEDS_ANSWER,
        settings,
        book if book is not None else TemplateBook.load(session),
    )
    return Outcome(escalation, True)


def add_note(
    session: Session,
    now: datetime,
    escalation: Escalation | None = None,
    rep: Rep | None = None,
    note: str = "",
    via: str = "admin",
    *,
    escalation_id: int | None = None,
    actor: str | None = None,
) -> Outcome:
    """Add a note to the escalation's trail (any status); an empty note changes nothing."""
    target = _target(session, escalation, escalation_id)
    note = note.strip()[:NOTE_CHARS]
    if not note:
        return Outcome(target, False)
    record(session, now, target.id, "note", f"via {via}: {note}", actor=who(rep, actor))
    return Outcome(target, True)


def forget_pending_notes(session: Session, escalation_id: int) -> None:
    """Nobody owes a note for an escalation that is resolved now."""
    session.execute(
        update(Rep)
        .where(Rep.awaiting_note_escalation_id == escalation_id)
        .values(awaiting_note_escalation_id=None, awaiting_note_since=None)
        .execution_options(synchronize_session="fetch")
    )


def _target(
    session: Session, escalation: Escalation | None, escalation_id: int | None
) -> Escalation:
    if escalation is not None:
        return escalation
    if escalation_id is None:
        raise TypeError("pass the escalation or its id")
    return session.get_one(Escalation, escalation_id)


def _transition(
    session: Session,
    escalation: Escalation,
    from_statuses: tuple[str, ...],
    *,
    extra: ColumnElement[bool] | None = None,
    **values: Any,
) -> bool:
    """UPDATE the escalation only if its status is one of `from_statuses`; True if it did."""
    session.flush()
    query = update(Escalation).where(
        Escalation.id == escalation.id, Escalation.status.in_(from_statuses)
    )
    if extra is not None:
        query = query.where(extra)
    result = session.execute(query.values(**values).execution_options(synchronize_session=False))
    session.refresh(escalation)
    return bool(result.rowcount)  # type: ignore[attr-defined]
