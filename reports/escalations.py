"""Escalation metrics: how fast reps take and fix unhappy customers, and whether it worked.

Over the escalations *opened* in `[since, until)` (same date/instant rules as
`reports.nps`), overall and per kind (detractor, needs_answer):

- median minutes from opening to acknowledgement, and to resolution;
- SLA breaches: acknowledged after `sla_due_at`, or still unacknowledged past it
  at `now`. Escalations still inside their SLA are not counted either way yet;
- recovery rate: of the escalations whose recovery check-in was answered, the
  share whose score was 7 or more (the customer's next score after the fix).

Medians are not portable SQL (SQLite has no percentile function), so the few
columns needed are read per escalation and reduced here; escalations are a small
fraction of responses.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CheckIn, Escalation, Response
from models.escalation import ESCALATION_KINDS
from reports.nps import Bound, window_end, window_start

RECOVERED_FROM = 7


@dataclass
class EscalationFigures:
    """The counts and durations behind one group's metrics."""

    escalations: int = 0
    acknowledged: int = 0
    resolved: int = 0
    escalated_to_manager: int = 0
    sla_decided: int = 0  # acknowledged, or past the SLA without it
    sla_breached: int = 0
    recovery_asked: int = 0  # recovery check-ins sent
    recovery_answered: int = 0
    recovered: int = 0  # answered 7 or more
    minutes_to_acknowledge: list[float] = field(default_factory=list, repr=False)
    minutes_to_resolve: list[float] = field(default_factory=list, repr=False)

    @property
    def median_minutes_to_acknowledge(self) -> float | None:
        return _median(self.minutes_to_acknowledge)

    @property
    def median_minutes_to_resolve(self) -> float | None:
        return _median(self.minutes_to_resolve)

    @property
    def sla_breach_rate(self) -> float | None:
        """Breaches per decided escalation, in percent (one decimal); None when none is decided."""
        return _percent(self.sla_breached, self.sla_decided)

    @property
    def recovery_rate(self) -> float | None:
        """Recovered per answered recovery check-in, in percent; None when none was answered."""
        return _percent(self.recovered, self.recovery_answered)

    def add(self, row: Any, now: datetime) -> None:
        self.escalations += 1
        if row.acknowledged_at is not None:
            self.acknowledged += 1
            self.minutes_to_acknowledge.append(_minutes(row.acknowledged_at - row.created_at))
        if row.resolved_at is not None:
            self.resolved += 1
            self.minutes_to_resolve.append(_minutes(row.resolved_at - row.created_at))
        if row.escalated_to_manager_at is not None:
            self.escalated_to_manager += 1
        if row.acknowledged_at is not None:
            self.sla_decided += 1
            self.sla_breached += row.acknowledged_at > row.sla_due_at
        elif now >= row.sla_due_at:
            self.sla_decided += 1
            self.sla_breached += 1
        if row.recovery_sent_at is not None:
            self.recovery_asked += 1
        if row.recovery_score is not None:
            self.recovery_answered += 1
            self.recovered += row.recovery_score >= RECOVERED_FROM

    def as_dict(self) -> dict[str, Any]:
        return {
            "escalations": self.escalations,
            "acknowledged": self.acknowledged,
            "resolved": self.resolved,
            "median_minutes_to_acknowledge": self.median_minutes_to_acknowledge,
            "median_minutes_to_resolve": self.median_minutes_to_resolve,
            "sla_decided": self.sla_decided,
            "sla_breached": self.sla_breached,
            "sla_breach_rate": self.sla_breach_rate,
            "escalated_to_manager": self.escalated_to_manager,
            "recovery_asked": self.recovery_asked,
            "recovery_answered": self.recovery_answered,
            "recovered": self.recovered,
            "recovery_rate": self.recovery_rate,
        }


@dataclass(frozen=True)
class EscalationReport:
    since: datetime | None
    until: datetime | None
    now: datetime
    overall: EscalationFigures
    groups: tuple[tuple[str, EscalationFigures], ...]

    def as_dict(self) -> dict[str, Any]:
        """The JSON document shared by `bot.py escalations --json` and the API."""
        return {
            **self.overall.as_dict(),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "groups": [{"key": key, **figures.as_dict()} for key, figures in self.groups],
        }


def escalation_metrics(
    session: Session, now: datetime, since: Bound | None = None, until: Bound | None = None
) -> EscalationReport:
    """Metrics of the escalations opened in `[since, until)`, as they stand at `now`."""
    start, end = window_start(since), window_end(until)
    if start is not None and end is not None and start >= end:
        raise ValueError(
            f"the window is empty: since {start.isoformat()} ≥ until {end.isoformat()}"
        )
    query = (
        select(
            Escalation.kind,
            Escalation.created_at,
            Escalation.acknowledged_at,
            Escalation.resolved_at,
            Escalation.sla_due_at,
            Escalation.escalated_to_manager_at,
            CheckIn.sent_at.label("recovery_sent_at"),
            Response.score.label("recovery_score"),
        )
        .outerjoin(CheckIn, CheckIn.id == Escalation.recovery_checkin_id)
        .outerjoin(Response, Response.checkin_id == Escalation.recovery_checkin_id)
    )
    if start is not None:
        query = query.where(Escalation.created_at >= start)
    if end is not None:
        query = query.where(Escalation.created_at < end)
    overall = EscalationFigures()
    by_kind = {kind: EscalationFigures() for kind in ESCALATION_KINDS}
    for row in session.execute(query):
        overall.add(row, now)
        by_kind.setdefault(row.kind, EscalationFigures()).add(row, now)
    return EscalationReport(start, end, now, overall, tuple(sorted(by_kind.items())))


def _minutes(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0.0) / 60


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
