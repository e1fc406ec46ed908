"""The one place time comes from, and where times and dates given as text are read.

Everything inside Aftercare is a timezone-aware UTC datetime. Commands that
accept `--now` pass their own instant down instead of calling this. A report's
window is half-open, `[since, until)`, in UTC: a *date* bound means the whole of
that UTC day on both ends, a *datetime* bound the exact instant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

# A report's window end: a date (the whole UTC day) or an exact instant.
Bound = date | datetime


def utcnow() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return `value` in UTC; a naive datetime is refused, never guessed."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: every time must carry a zone")
    return value.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """Parse ISO 8601 (a trailing Z allowed); a value without a zone is read as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# The ends of the calendar: a bound beyond them (year 1 east of UTC, the last day of
# 9999) cannot be a Python datetime in UTC, and no record lies beyond them anyway.
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def parse_bound(text: str) -> Bound:
    """`2026-03-01` is a date (a whole UTC day); anything longer is an ISO 8601 instant.

    RFC 3339's lower-case `t` and `z` are accepted; an instant past either end of
    the calendar once in UTC becomes that end.
    """
    if text != text.strip():
        raise ValueError(f"{text!r} has spaces around it")
    text = text.upper()
    if len(text) == 10:
        return date.fromisoformat(text)
    try:
        return parse_instant(text)
    except OverflowError:
        return EARLIEST if text.startswith("0001-") else LATEST


def window_start(value: Bound | None) -> datetime | None:
    """The first instant inside the window."""
    if value is None or isinstance(value, datetime):
        return None if value is None else as_utc(value)
    return datetime.combine(value, time(), UTC)


def window_end(value: Bound | None) -> datetime | None:
    """The first instant after the window: a date's end is the next midnight (UTC)."""
    if value is None or isinstance(value, datetime):
        return None if value is None else as_utc(value)
    if value == date.max:
        return LATEST
    return datetime.combine(value + timedelta(days=1), time(), UTC)
