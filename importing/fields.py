"""Turning one cell's text into a value, or a FieldError that says what is wrong."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers

from clock import as_utc

BIGINT = 2**63
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
# Anything outside is a typo ("0026-03-01"), not a real purchase.
YEARS = range(1900, 3000)


class FieldError(ValueError):
    """A cell that cannot be used; the message names what is wrong."""


def phone(text: str) -> str:
    """An international number in E.164 ("+48 601-234-567" -> "+48601234567")."""
    if not text.startswith("+"):
        raise FieldError(f"{text!r} is not in international format (+country code)")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise FieldError(f"{text!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise FieldError(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def checked(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """A registry's address check (raising ValueError) as a cell parser (raising FieldError)."""

    def parse(text: str) -> Any:
        try:
            return check(text)
        except ValueError as error:
            raise FieldError(str(error)) from None

    return parse


def chat_id(text: str) -> int:
    """A Telegram chat id: a whole number (negative for groups)."""
    try:
        value = int(text)
    except ValueError:
        raise FieldError(f"{text!r} is not a whole number") from None
    if not -BIGINT <= value < BIGINT:
        raise FieldError(f"{text!r} is out of range for a chat id")
    return value


def choice(text: str, allowed: Iterable[str]) -> str:
    """One of `allowed`, case-insensitively."""
    value = text.lower()
    options = tuple(allowed)
    if value not in options:
        raise FieldError(f"{text!r} is not one of {', '.join(options)}")
    return value


@functools.cache
def _zone_names_by_lower_case() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


@functools.cache
def zone(name: str) -> ZoneInfo:
    """An IANA time zone ("Europe/Warsaw"); a near miss gets a suggestion."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    suggestion = _zone_names_by_lower_case().get(name.lower())
    hint = f" (did you mean {suggestion}?)" if suggestion else " (IANA name like Europe/Warsaw)"
    raise FieldError(f"{name!r} is not a known time zone{hint}")


def instant(text: str, local_zone: ZoneInfo) -> datetime:
    """An ISO 8601 time as aware UTC; a time without a zone is read in `local_zone`.

    RFC 3339's lower-case `t` and `z` (some exports write them) are accepted too.
    """
    try:
        value = datetime.fromisoformat(text.upper())
    except ValueError:
        raise FieldError(
            f"{text!r} is not an ISO 8601 time (like 2026-03-01T14:30 or 2026-03-01T14:30+01:00)"
        ) from None
    if value.year not in YEARS:
        raise FieldError(f"{text!r} has an implausible year")
    if value.tzinfo is None:
        return value.replace(tzinfo=local_zone).astimezone(UTC)
    return as_utc(value)


def day(text: str) -> date:
    """A calendar date, YYYY-MM-DD; a time of day there is refused, not truncated."""
    if not DATE_PATTERN.fullmatch(text):
        if DATE_PATTERN.match(text):
            raise FieldError(f"{text!r} has a time; expected a date alone (YYYY-MM-DD)")
        raise FieldError(f"{text!r} is not a date (YYYY-MM-DD)")
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise FieldError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if value.year not in YEARS:
        raise FieldError(f"{text!r} has an implausible year")
    return value


def tags(text: str) -> list[str]:
    """`;`-separated tags, stripped, empty ones and repeats dropped, order kept."""
    return list(dict.fromkeys(tag.strip() for tag in text.split(";") if tag.strip()))


def bounded(text: str, limit: int | None) -> str:
    """`text` when it fits the database column."""
    if limit is not None and len(text) > limit:
        raise FieldError(f"is {len(text)} characters long; at most {limit} fit")
    return text
