"""The team's clock: the business's time zone, staff working hours, and whether detractor
alerts are urgent. Stored like the cadence rules (one AppSetting, JSON), edited in Settings.

By default the zone is AFTERCARE_DEFAULT_TZ and the hours are around the clock,
which is the 2-hour SLA of DESIGN.md in plain time. A rep may have hours of
their own (`Rep.working_hours`, the same text form, on the business's clock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from cadence.working_hours import (
    ALWAYS,
    InvalidHours,
    WorkingHours,
    add_working_time,
    next_working_instant,
    parse_hours,
    working_time_between,
)
from models import AppSetting, Rep

SETTING_KEY = "team"


class InvalidTeam(ValueError):
    """A team setting that cannot be used; `problems` maps each field to a one-line reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in problems.items()))
        self.problems = problems


def check_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; raises InvalidHours saying it is not one."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidHours(
            f"{name.strip()!r} is not an IANA time zone (like Europe/Warsaw)"
        ) from None


@dataclass(frozen=True)
class Team:
    """The business's time zone and hours; `urgent_detractor_alerts` skips the wait for them."""

    timezone: str
    hours: WorkingHours = ALWAYS
    urgent_detractor_alerts: bool = False
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", check_zone(self.timezone))

    def to_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "working_hours": self.hours.text(),
            "urgent_detractor_alerts": self.urgent_detractor_alerts,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], default_tz: str) -> Team:
        """Team settings from stored JSON; raises InvalidTeam naming each bad field."""
        problems: dict[str, str] = {}
        timezone = str(data.get("timezone") or default_tz)
        hours = ALWAYS
        try:
            check_zone(timezone)
        except InvalidHours as bad:
            problems["timezone"] = str(bad)
        try:
            hours = parse_hours(str(data.get("working_hours") or ALWAYS.text()))
        except InvalidHours as bad:
            problems["working_hours"] = str(bad)
        if problems:
            raise InvalidTeam(problems)
        return cls(timezone, hours, bool(data.get("urgent_detractor_alerts", False)))

    def hours_for(self, rep: Rep | None) -> WorkingHours:
        """The rep's own hours when they have valid ones, else the business's."""
        text = rep.working_hours if rep is not None else None
        if text:
            try:
                return parse_hours(text)
            except InvalidHours:
                pass  # checked on the way in; an old bad value falls back to the business's
        return self.hours

    def sla_due(self, opened: datetime, sla: timedelta) -> datetime:
        """When an escalation opened at `opened` is due: `sla` of working time later."""
        return add_working_time(opened, sla, self.hours, self.zone)

    def time_left(self, now: datetime, due: datetime) -> timedelta:
        """Working time until `due`; negative (working time past it) once overdue."""
        if now <= due:
            return working_time_between(now, due, self.hours, self.zone)
        return -working_time_between(due, now, self.hours, self.zone)

    def next_working(self, now: datetime, rep: Rep | None = None) -> datetime:
        """`now` inside the rep's (or the business's) hours, else when they next start."""
        return next_working_instant(now, self.hours_for(rep), self.zone)


def load_team(session: Session, default_tz: str) -> Team:
    """The team settings in force (defaults: `default_tz`, around the clock, not urgent)."""
    row = session.get(AppSetting, SETTING_KEY)
    return Team.from_json(dict(row.value or {}) if row is not None else {}, default_tz)


def save_team(session: Session, team: Team) -> None:
    row = session.get(AppSetting, SETTING_KEY)
    if row is None:
        session.add(AppSetting(key=SETTING_KEY, value=team.to_json()))
    else:
        row.value = team.to_json()
