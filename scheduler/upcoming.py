"""What the passes of the next hours will send and hold back: `plan --at`, played forward.

Inside one transaction that is rolled back, passes are run from `now` to
`now + hours` (planning and dispatching, as `preview` does): one every `step`,
and one at each instant a waiting check-in wakes or a scheduled one falls due,
so a check-in that waits for the end of quiet hours at 07:00 shows as sent by
the 07:00 pass, and a customer surveyed at 09:00 is throttled at 10:00.
(Check-ins the planner has yet to create appear at the first pass after they
fall due: within `step`.) Nothing is
sent or kept. Each check-in ends up once: the pass that would send it, or the
last decision that held it back. Paused check-ins are listed as they stand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cadence.rules import load_rules
from messaging.compose import TemplateBook
from models import CheckIn
from models.db import in_state
from models.states import CheckInStatus
from scheduler.dispatch import Outcome, dispatch_batch
from scheduler.planner import plan
from settings import Settings

HORIZON_HOURS = 24
STEP = timedelta(hours=1)
# Passes run at wake-up instants at most this many times; then only every `step`.
MAX_EXTRA_PASSES = 120


@dataclass(frozen=True)
class Upcoming:
    """One check-in's fate over the horizon: `at` is the pass that decided it last."""

    checkin_id: int
    kind: str
    action: str  # "send", "wait", "suppress", "fail", or "paused"
    at: datetime
    channel: str | None
    reason: str | None
    body: str | None = None


def upcoming(
    factory: sessionmaker[Session],
    now: datetime,
    settings: Settings,
    *,
    hours: int = HORIZON_HOURS,
    step: timedelta = STEP,
) -> list[Upcoming]:
    """Every check-in the passes from `now` to `now + hours` would decide, and paused ones."""
    found: dict[int, Upcoming] = {}
    with factory() as session:
        try:
            rules = load_rules(session)
            book = TemplateBook.load(session)
            paused = session.execute(
                select(CheckIn.id, CheckIn.kind, CheckIn.paused_at, CheckIn.reason).where(
                    in_state(CheckIn.status, CheckInStatus.SCHEDULED),
                    CheckIn.paused_at.is_not(None),
                )
            ).all()
            at, end, extra = now, now + timedelta(hours=hours), 0
            while at <= end:
                plan(session, at, rules, settings.default_tz)
                while batch := dispatch_batch(session, at, rules, settings, book):
                    for outcome in batch:
                        if found.get(outcome.checkin_id, _NOT_YET).action != "send":
                            found[outcome.checkin_id] = _seen(outcome, at)
                wake = _next_wake(session, at) if extra < MAX_EXTRA_PASSES else None
                if wake is not None and wake < at + step:
                    at, extra = wake, extra + 1
                else:
                    at += step
        finally:
            session.rollback()
    for checkin_id, kind, paused_at, reason in paused:
        found[checkin_id] = Upcoming(checkin_id, kind, "paused", paused_at or now, None, reason)
    return sorted(found.values(), key=lambda item: (item.at, item.checkin_id))


def _next_wake(session: Session, after: datetime) -> datetime | None:
    """The first instant after `after` when a waiting or not-yet-due check-in can go: the next
    pass is run then rather than a whole `step` later (`run` passes every minute)."""
    waiting = in_state(CheckIn.status, CheckInStatus.SCHEDULED), CheckIn.paused_at.is_(None)
    wake = session.scalar(
        select(func.min(CheckIn.not_before)).where(*waiting, CheckIn.not_before > after)
    )
    due = session.scalar(
        select(func.min(CheckIn.due_at)).where(
            *waiting, CheckIn.not_before.is_(None), CheckIn.due_at > after
        )
    )
    found = [value for value in (wake, due) if value is not None]
    return min(found) if found else None


_NOT_YET = Upcoming(0, "", "", datetime.min.replace(tzinfo=UTC), None, None)


def _seen(outcome: Outcome, at: datetime) -> Upcoming:
    return Upcoming(
        outcome.checkin_id,
        outcome.kind,
        outcome.action,
        at,
        outcome.channel,
        outcome.reason,
        outcome.body,
    )
