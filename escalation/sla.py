"""The escalation SLA: a detractor nobody acknowledged in time goes to the rep's manager.

`check_slas` runs in every scheduler pass. It finds the overdue escalations
with one range scan on (status, sla_due_at), only those whose next reminder is due, and claims each reminder with a
conditional UPDATE on `reminders_sent`: two processes (or two passes) that see
the same escalation send one manager alert between them. On PostgreSQL the
rows are also locked with SKIP LOCKED, so a second process moves on at once
instead of waiting for the first.

Reminder n (counting from 0) is due at `sla_due_at + n × SLA`; there are never
more than `rules.max_manager_reminders`, and none once someone acknowledged.
Only detractor escalations have an SLA (DESIGN.md); a forwarded "needs answer"
message has no score for the manager alert to show, and waits for its rep.

Once the business sets working hours (cadence/team.py) the SLA counts working
time only: `sla_due_at` is worked out so when the escalation opens, and outside
the business's hours no pass alerts a manager (a later reminder that falls due at
night goes when the day starts). `sla_time_left` is the working time left, for pages.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from cadence.rules import CadenceRules
from cadence.team import Team, load_team
from cadence.working_hours import is_working
from escalation.alerts import manager_for, queue_alert, reach
from escalation.trail import SYSTEM, record
from events import EventType, record_event
from events.payloads import escalation_data
from messaging.compose import TemplateBook
from models import Escalation, Rep
from models.states import EscalationKind, EscalationStatus
from settings import Settings

log = logging.getLogger(__name__)

SLA_KINDS = (EscalationKind.DETRACTOR,)
BATCH = 500


def check_slas(
    session: Session, now: datetime, rules: CadenceRules, settings: Settings, book: TemplateBook
) -> int:
    """Alert the manager of every open detractor escalation past its SLA; return how many were sent."""
    if rules.max_manager_reminders <= 0:
        return 0
    team = load_team(session, settings.default_tz)
    if not is_working(now, team.hours, team.zone):
        return 0  # nobody texts a manager at 01:00; the first pass of the day does
    interval = timedelta(hours=rules.escalation_sla_hours)
    # Reminder n is due at sla_due_at + n × SLA. Said in SQL, one comparison per n, so
    # the batch holds only escalations due now: ones waiting for their next reminder
    # can never fill it and starve due ones behind them.
    next_reminder_due = or_(
        *(
            (Escalation.reminders_sent == n) & (Escalation.sla_due_at <= now - n * interval)
            for n in range(rules.max_manager_reminders)
        )
    )
    overdue = session.scalars(
        select(Escalation)
        .where(
            Escalation.status == EscalationStatus.OPEN,
            Escalation.sla_due_at <= now,
            Escalation.kind.in_(SLA_KINDS),
            next_reminder_due,
        )
        .order_by(Escalation.sla_due_at, Escalation.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    return sum(
        escalate_to_manager(session, now, escalation, rules, settings, book)
        for escalation in overdue
    )


def sla_time_left(escalation: Escalation, now: datetime, team: Team | None = None) -> timedelta:
    """Time left to act on `escalation` (negative once overdue), in the team's working time.

    Without `team` (cadence.team.load_team) it is plain time, as around the clock.
    """
    if team is None:
        return escalation.sla_due_at - now
    return team.time_left(now, escalation.sla_due_at)


def escalate_to_manager(
    session: Session,
    now: datetime,
    escalation: Escalation,
    rules: CadenceRules,
    settings: Settings,
    book: TemplateBook,
) -> int:
    """Claim the escalation's next reminder and queue the manager alert; 1 if one was queued."""
    rep = session.get(Rep, escalation.rep_id) if escalation.rep_id is not None else None
    manager = manager_for(session, rep)
    reachable = manager is not None and reach(manager) is not None
    seen = escalation.reminders_sent
    values: dict[str, object] = {"reminders_sent": Escalation.reminders_sent + 1}
    if reachable:
        assert manager is not None
        values |= {
            "manager_id": manager.id,
            "escalated_to_manager_at": func.coalesce(Escalation.escalated_to_manager_at, now),
        }
    claimed = session.execute(
        update(Escalation)
        .where(
            Escalation.id == escalation.id,
            Escalation.status == EscalationStatus.OPEN,
            Escalation.reminders_sent == seen,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(escalation)
    if not claimed:
        return 0  # acknowledged meanwhile, or another process sent this reminder
    number = f"{seen + 1} of {rules.max_manager_reminders}"
    if not reachable:
        why = "no manager" if manager is None else f"{manager.name} has no phone and no Telegram"
        record(session, now, escalation.id, "sla_breached", f"not escalated: {why} ({number})")
        log.warning("escalation %s is past its SLA and %s", escalation.id, why)
        return 0
    assert manager is not None
    message = queue_alert(session, now, escalation, manager, "manager_alert", settings, book)
    if message is None:
        return 0
    record(
        session,
        now,
        escalation.id,
        "escalated",
        f"to {manager.name} ({manager.external_id}) by {message.channel}, reminder {number}",
    )
    record_event(
        session,
        now,
        EventType.ESCALATION_ESCALATED,
        lambda: escalation_data(session, escalation, SYSTEM) | {"reminder": seen + 1},
    )
    return 1
