"""The one place time comes from.

Everything inside Aftercare is a timezone-aware UTC datetime. Commands that
accept `--now` pass their own instant down instead of calling this.
"""

from __future__ import annotations

from datetime import UTC, datetime


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
