"""The customer's own clock: time zones, quiet hours, local dates. DST via zoneinfo."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cadence.rules import CadenceRules


def zone_for(name: str | None, default: str) -> ZoneInfo:
    """The customer's zone, or the default one when unknown."""
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of `day` in `zone`, as UTC (fold=0 picks the first one in a DST repeat)."""
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def is_quiet(now: datetime, zone: ZoneInfo, rules: CadenceRules) -> bool:
    """True at night in the customer's zone (quiet_start <= local time < quiet_end)."""
    local = now.astimezone(zone).time()
    start, end = rules.quiet_start, rules.quiet_end
    if start > end:  # the usual case: the window spans midnight
        return local >= start or local < end
    return start <= local < end


def quiet_hours_end(now: datetime, zone: ZoneInfo, rules: CadenceRules) -> datetime:
    """The next instant (UTC) the customer may be messaged; `now` itself when not quiet."""
    if not is_quiet(now, zone, rules):
        return now
    local = now.astimezone(zone)
    day = local.date() if local.time() < rules.quiet_end else local.date() + timedelta(days=1)
    wake = datetime.combine(day, rules.quiet_end, tzinfo=zone)
    # A wake-up time inside a DST gap does not exist; zoneinfo moves it forward, which is fine.
    return wake.astimezone(UTC)
