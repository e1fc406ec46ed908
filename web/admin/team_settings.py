"""The "Team" part of the settings form: the business's time zone, working hours, urgent alerts.

Only the form's text is read here; what a zone or an hour may be is
cadence/team.py's and cadence/working_hours.py's to say. Each bad value gets one
line naming its field, and nothing is saved while any is bad.
"""

from __future__ import annotations

from typing import Any

from cadence.team import Team, check_zone
from cadence.working_hours import (
    InvalidHours,
    WorkingHours,
    clock_text,
    days_text,
    parse_clock,
    parse_days,
)

LABELS = {
    "timezone": "Business time zone",
    "work_days": "Working days",
    "work_start": "Working hours from",
    "work_end": "Working hours until",
    "urgent_detractor_alerts": "Detractor alerts are urgent",
}
NAMES = tuple(LABELS)


def team_form(team: Team) -> dict[str, str]:
    """The team settings as the text each input shows."""
    return {
        "timezone": team.timezone,
        "work_days": days_text(team.hours.days),
        "work_start": clock_text(team.hours.start),
        "work_end": clock_text(team.hours.end),
        "urgent_detractor_alerts": "on" if team.urgent_detractor_alerts else "",
    }


def read_team_form(submitted: Any) -> dict[str, str]:
    """What the browser sent (a starlette FormData), as text."""
    return {name: str(submitted.get(name, "")) for name in NAMES}


def parse_team_form(form: dict[str, str]) -> tuple[Team | None, dict[str, str]]:
    """The team the form describes, or None and one message per bad field."""
    errors: dict[str, str] = {}
    timezone = str(form.get("timezone", "")).strip()
    try:
        check_zone(timezone)
    except InvalidHours as bad:
        errors["timezone"] = f"{LABELS['timezone']}: {bad}"
    days: frozenset[int] = frozenset()
    try:
        days = parse_days(str(form.get("work_days", "")))
    except InvalidHours as bad:
        errors["work_days"] = f"{LABELS['work_days']}: {bad}"
    start = end = 0
    for name in ("work_start", "work_end"):
        try:
            value = parse_clock(str(form.get(name, "")), allow_24=name == "work_end")
        except InvalidHours as bad:
            errors[name] = f"{LABELS[name]}: {bad}"
            continue
        if name == "work_start":
            start = value
        else:
            end = value
    if not errors and end <= start:
        errors["work_end"] = (
            f"{LABELS['work_end']}: must be after {clock_text(start)} "
            "(24:00 for the end of the day)"
        )
    if errors:
        return None, errors
    urgent = str(form.get("urgent_detractor_alerts", "")) in ("on", "true", "1", "yes")
    return Team(timezone, WorkingHours(days, start, end), urgent), {}
