"""Staff working hours and working-time arithmetic: small pure functions, DST via zoneinfo.

Hours are a set of weekdays and one daily span on the business's clock, written
as text like "Mon-Fri 09:00-18:00" (the settings page, the per-rep override and
the stored JSON all use that form). "Mon-Sun 00:00-24:00" is around the clock,
which is the default and makes working time plain time.

Every function takes and returns aware instants (they answer in UTC). A span's
start and end are local wall-clock times: on the day clocks change the span is an
hour shorter or longer in real time, and a wall time inside a spring-forward gap
is read with the offset before the change (zoneinfo's fold=0), so it falls just
after the gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_PER_DAY = 24 * 60
# Longer than any run of non-working days (at least one weekday works).
_SEARCH_DAYS = 8
_DAYS = re.compile(r"[A-Za-z]{3}(?:-[A-Za-z]{3})?")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})\Z")


class InvalidHours(ValueError):
    """Hours that cannot be used; the message says what is wrong, in one line."""


@dataclass(frozen=True)
class WorkingHours:
    """Weekdays (0 = Monday) and one daily span, in minutes after local midnight (end ≤ 1440)."""

    days: frozenset[int]
    start: int
    end: int

    def __post_init__(self) -> None:
        if not self.days or not self.days <= set(range(7)):
            raise InvalidHours("name at least one day, Mon to Sun")
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise InvalidHours("the end must be after the start, within one day (up to 24:00)")

    @property
    def around_the_clock(self) -> bool:
        return len(self.days) == 7 and self.start == 0 and self.end == MINUTES_PER_DAY

    def text(self) -> str:
        """The form `parse_hours` reads: "Mon-Fri 09:00-18:00", "Mon,Wed 08:00-12:00"."""
        return f"{days_text(self.days)} {clock_text(self.start)}-{clock_text(self.end)}"


ALWAYS = WorkingHours(frozenset(range(7)), 0, MINUTES_PER_DAY)


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_clock(text: str, *, allow_24: bool = False) -> int:
    """ "09:30" -> 570; "24:00" only as an end. Raises InvalidHours naming the bad value."""
    match = _CLOCK.match(text.strip())
    hours, minutes = (int(match[1]), int(match[2])) if match else (99, 99)
    total = hours * 60 + minutes
    if minutes > 59 or total > MINUTES_PER_DAY or (total == MINUTES_PER_DAY and not allow_24):
        raise InvalidHours(f"{text.strip()!r} is not a time like 09:00")
    return total


def days_text(days: frozenset[int]) -> str:
    """Runs of days joined: {0,1,2,3,4} -> "Mon-Fri"; {0,2} -> "Mon,Wed"."""
    runs: list[str] = []
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        first, last = DAY_NAMES[ordered[i]], DAY_NAMES[ordered[j]]
        runs.append(first if i == j else f"{first}-{last}")
        i = j + 1
    return ",".join(runs)


def parse_days(text: str) -> frozenset[int]:
    """ "Mon-Fri", "Mon,Wed,Fri", "Sat-Sun" -> weekday numbers; raises InvalidHours."""
    days: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        if not _DAYS.fullmatch(part):
            raise InvalidHours(f"{part!r} is not a day or range like Mon-Fri")
        first, _, last = part.partition("-")
        numbers = [_day_number(first), _day_number(last or first)]
        if numbers[1] < numbers[0]:
            raise InvalidHours(f"{part!r}: a range of days runs from Mon towards Sun")
        days.update(range(numbers[0], numbers[1] + 1))
    if not days:
        raise InvalidHours("name at least one day, Mon to Sun")
    return frozenset(days)


def _day_number(name: str) -> int:
    try:
        return [d.lower() for d in DAY_NAMES].index(name.lower())
    except ValueError:
        raise InvalidHours(f"{name!r} is not a day (Mon, Tue, … Sun)") from None


def parse_hours(text: str) -> WorkingHours:
    """ "Mon-Fri 09:00-18:00" -> WorkingHours; raises InvalidHours with a one-line reason."""
    days, _, span = text.strip().rpartition(" ")
    start, sep, end = span.partition("-")
    if not days.strip() or not sep:
        raise InvalidHours(f"{text.strip()!r} should read like “Mon-Fri 09:00-18:00”")
    return WorkingHours(parse_days(days), parse_clock(start), parse_clock(end, allow_24=True))


def _at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """Local wall time `minutes` after midnight of `day`, as UTC (24:00 is the next midnight)."""
    extra, minutes = divmod(minutes, MINUTES_PER_DAY)
    local = datetime.combine(day + timedelta(days=extra), time(minutes // 60, minutes % 60))
    return local.replace(tzinfo=zone).astimezone(UTC)


def spans(since: datetime, hours: WorkingHours, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The working spans (UTC, start < end) that end after `since`, for about the next week."""
    first = since.astimezone(zone).date() - timedelta(days=1)
    found = []
    for offset in range(_SEARCH_DAYS + 1):
        day = first + timedelta(days=offset)
        if day.weekday() not in hours.days:
            continue
        opens, closes = _at(day, hours.start, zone), _at(day, hours.end, zone)
        if closes > since and opens < closes:
            found.append((opens, closes))
    return found


def add_working_time(
    start: datetime, amount: timedelta, hours: WorkingHours, zone: ZoneInfo
) -> datetime:
    """The instant `amount` of working time after `start` (itself, or the next opening, for 0).

    Around the clock this is plain addition. Otherwise it walks the working spans;
    the answer always lies inside one of them (its end included).
    """
    if amount < timedelta(0):
        raise ValueError("working time cannot be negative")
    if hours.around_the_clock:
        return start.astimezone(UTC) + amount
    cursor, left = start.astimezone(UTC), amount
    while True:
        for opens, closes in spans(cursor, hours, zone):
            begin = max(opens, cursor)
            if left <= closes - begin:
                return begin + left
            left -= closes - begin
            cursor = closes


def working_time_between(
    start: datetime, end: datetime, hours: WorkingHours, zone: ZoneInfo
) -> timedelta:
    """How much working time lies from `start` to `end` (zero when `end` is not later)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return timedelta(0)
    if hours.around_the_clock:
        return end - start
    total, cursor = timedelta(0), start
    while cursor < end:
        for opens, closes in spans(cursor, hours, zone):
            if opens >= end:
                return total
            total += min(closes, end) - max(opens, cursor)
            cursor = closes
            if cursor >= end:
                return total
    return total


def next_working_instant(now: datetime, hours: WorkingHours, zone: ZoneInfo) -> datetime:
    """`now` when it is working time, else the start of the next working span."""
    return add_working_time(now, timedelta(0), hours, zone)


def is_working(now: datetime, hours: WorkingHours, zone: ZoneInfo) -> bool:
    """True inside a working span (its start included, its end not)."""
    moment = now.astimezone(UTC)
    return hours.around_the_clock or any(
        opens <= moment < closes for opens, closes in spans(moment, hours, zone)
    )
