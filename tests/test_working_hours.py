"""Working-time arithmetic: examples on a Warsaw week (with its DST changes) and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.working_hours import (
    ALWAYS,
    InvalidHours,
    WorkingHours,
    add_working_time,
    is_working,
    next_working_instant,
    parse_hours,
    spans,
    working_time_between,
)

WARSAW = ZoneInfo("Europe/Warsaw")
OFFICE = parse_hours("Mon-Fri 09:00-18:00")
ZONES = [ZoneInfo(name) for name in ("Europe/Warsaw", "America/New_York", "Asia/Bangkok", "UTC")]


def local(text: str, zone: ZoneInfo = WARSAW) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def test_a_complaint_at_23_on_friday_is_due_two_working_hours_after_monday_9() -> None:
    due = add_working_time(local("2026-03-06 23:00"), timedelta(hours=2), OFFICE, WARSAW)
    assert due == local("2026-03-09 11:00")


def test_time_left_at_the_end_of_a_day_carries_over_to_the_next_morning() -> None:
    due = add_working_time(local("2026-03-10 17:30"), timedelta(hours=2), OFFICE, WARSAW)
    assert due == local("2026-03-11 10:30")
    assert working_time_between(local("2026-03-10 17:30"), due, OFFICE, WARSAW) == timedelta(
        hours=2
    )


def test_a_working_day_across_the_spring_change_is_nine_hours_of_wall_clock() -> None:
    # Poland moves its clocks on Sunday 29 March 2026; Monday's 09:00 is CEST.
    due = add_working_time(local("2026-03-27 17:00"), timedelta(hours=2), OFFICE, WARSAW)
    assert due == local("2026-03-30 10:00")
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_hours_inside_the_spring_gap_lose_the_missing_hour() -> None:
    night = parse_hours("Sun 01:00-04:00")
    start = local("2026-03-29 00:00")
    assert working_time_between(start, start + timedelta(days=1), night, WARSAW) == timedelta(
        hours=2
    )


def test_the_next_working_instant() -> None:
    assert next_working_instant(local("2026-03-07 10:00"), OFFICE, WARSAW) == local(
        "2026-03-09 09:00"
    )
    assert next_working_instant(local("2026-03-09 18:00"), OFFICE, WARSAW) == local(
        "2026-03-10 09:00"
    )
    inside = local("2026-03-09 12:34")
    assert next_working_instant(inside, OFFICE, WARSAW) == inside
    assert is_working(inside, OFFICE, WARSAW)
    assert not is_working(local("2026-03-09 01:00"), OFFICE, WARSAW)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Mon-Fri 25:00-18:00", "'25:00' is not a time like 09:00"),
        ("Mon-Fri 18:00-09:00", "the end must be after the start"),
        ("Mon-Fri 09:00-24:30", "'24:30' is not a time"),
        ("Mon-Fry 09:00-18:00", "'Fry' is not a day"),
        ("Fri-Mon 09:00-18:00", "runs from Mon towards Sun"),
        ("09:00-18:00", "should read like"),
    ],
)
def test_bad_hours_say_what_is_wrong_in_one_line(text: str, problem: str) -> None:
    with pytest.raises(InvalidHours) as raised:
        parse_hours(text)
    assert problem in str(raised.value) and "\n" not in str(raised.value)


def test_hours_read_back_as_they_are_written() -> None:
    assert parse_hours("mon-fri 9:00-18:00").text() == "Mon-Fri 09:00-18:00"
    assert parse_hours("Mon,Wed-Thu,Sun 08:00-12:30").text() == "Mon,Wed-Thu,Sun 08:00-12:30"
    assert parse_hours("Mon-Sun 00:00-24:00") == ALWAYS and ALWAYS.around_the_clock


hours_strategy = st.builds(
    lambda days, start, length: WorkingHours(frozenset(days), start, min(start + length, 24 * 60)),
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(0, 24 * 60 - 15).map(lambda m: m - m % 15),
    st.integers(15, 24 * 60).map(lambda m: m - m % 15),
)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
amounts = st.integers(0, 60 * 60 * 24 * 10).map(lambda s: timedelta(seconds=s))


def inside_or_at_the_end(moment: datetime, hours: WorkingHours, zone: ZoneInfo) -> bool:
    return any(
        opens <= moment <= closes
        for opens, closes in spans(moment - timedelta(days=1), hours, zone)
    )


@settings(max_examples=150, deadline=None)
@given(instants, amounts, hours_strategy, st.sampled_from(ZONES))
def test_adding_working_time_never_lands_outside_hours(start, amount, hours, zone) -> None:
    due = add_working_time(start, amount, hours, zone)
    assert due >= start
    assert inside_or_at_the_end(due, hours, zone)


@settings(max_examples=150, deadline=None)
@given(instants, amounts, hours_strategy, st.sampled_from(ZONES))
def test_the_working_time_between_start_and_due_is_what_was_added(
    start, amount, hours, zone
) -> None:
    due = add_working_time(start, amount, hours, zone)
    assert working_time_between(start, due, hours, zone) == amount


@settings(max_examples=100, deadline=None)
@given(instants, amounts, amounts, hours_strategy, st.sampled_from(ZONES))
def test_working_time_adds_up(start, first, second, hours, zone) -> None:
    once = add_working_time(start, first + second, hours, zone)
    twice = add_working_time(add_working_time(start, first, hours, zone), second, hours, zone)
    # Landing exactly at a span's end and going on from there is the same instant.
    assert working_time_between(start, once, hours, zone) == working_time_between(
        start, twice, hours, zone
    )


@settings(max_examples=100, deadline=None)
@given(instants, amounts, st.sampled_from(ZONES))
def test_around_the_clock_is_plain_addition(start, amount, zone) -> None:
    assert add_working_time(start, amount, ALWAYS, zone) == start + amount
    assert working_time_between(start, start + amount, ALWAYS, zone) == amount
    assert next_working_instant(start, ALWAYS, zone) == start


@settings(max_examples=100, deadline=None)
@given(instants, hours_strategy, st.sampled_from(ZONES))
def test_the_next_working_instant_is_working_time(start, hours, zone) -> None:
    moment = next_working_instant(start, hours, zone)
    assert moment >= start and is_working(moment, hours, zone)
