"""Cadence rules and quiet hours, at their boundaries (pure functions, no database)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from cadence import due as cadence
from cadence.decisions import Facts, decide
from cadence.quiet_hours import is_quiet, quiet_hours_end, start_of_day
from cadence.rules import DEFAULT_RULES, CadenceRules
from tests.conftest import at

RULES = DEFAULT_RULES
UTC_ZONE = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("category", "days"),
    [("car", 1), ("dental", 2), ("garage", 7), ("furniture", 2), ("", 2), ("CAR", 1)],
)
def test_post_delivery_waits_the_categorys_delay(category: str, days: int) -> None:
    delivered = at("2026-03-01 10:00")
    assert cadence.post_delivery_due(delivered, category, RULES) == delivered + timedelta(days=days)


def test_delay_notice_is_due_at_the_start_of_the_next_local_day() -> None:
    due = cadence.delay_notice_due(date(2026, 3, 10), ZoneInfo("Europe/Warsaw"))
    assert due == at("2026-03-10 23:00")  # 00:00 on the 11th in Warsaw (UTC+1)


def test_delay_notice_respects_the_dst_change_in_the_customers_zone() -> None:
    # Poland moves to summer time on 2026-03-29: midnight of the 30th is 22:00 UTC.
    assert cadence.delay_notice_due(date(2026, 3, 29), ZoneInfo("Europe/Warsaw")) == at(
        "2026-03-29 22:00"
    )


def test_start_of_day_in_a_zone_that_skips_midnight() -> None:
    # Santiago skips 00:00-01:00 when summer time starts (2026-09-06).
    assert start_of_day(date(2026, 9, 6), ZoneInfo("America/Santiago")) == at("2026-09-06 04:00")


def test_periodic_comes_ninety_days_after_the_anchor() -> None:
    assert cadence.periodic_due(at("2026-01-01 12:00"), RULES) == at("2026-04-01 12:00")


def test_service_checks_only_for_service_categories() -> None:
    delivered = at("2026-01-01 12:00")
    assert cadence.first_service_at(delivered, "car", RULES) == delivered + timedelta(days=182)
    assert cadence.first_service_at(delivered, "Machinery", RULES) == delivered + timedelta(
        days=182
    )
    assert cadence.first_service_at(delivered, "dental", RULES) is None


def test_service_number_counts_intervals() -> None:
    delivered = at("2026-01-01 12:00")
    assert cadence.service_number(delivered, delivered + timedelta(days=182), RULES) == 1
    assert cadence.service_number(delivered, delivered + timedelta(days=364), RULES) == 2


def test_throttle_window_boundaries() -> None:
    last = at("2026-03-01 10:00")
    assert cadence.is_throttled(last, last + timedelta(days=14) - timedelta(seconds=1), RULES)
    assert not cadence.is_throttled(last, last + timedelta(days=14), RULES)
    assert not cadence.is_throttled(None, last, RULES)


@pytest.mark.parametrize(
    ("utc", "zone", "quiet"),
    [
        ("2026-03-02 08:59", "UTC", True),
        ("2026-03-02 09:00", "UTC", False),
        ("2026-03-02 19:59", "UTC", False),
        ("2026-03-02 20:00", "UTC", True),
        ("2026-03-02 02:00", "Asia/Bangkok", False),  # 09:00 in Bangkok
        ("2026-03-02 01:59", "Asia/Bangkok", True),
        ("2026-03-02 14:00", "America/New_York", False),  # 09:00 EST
        ("2026-03-02 13:59", "America/New_York", True),
        ("2026-07-02 13:00", "America/New_York", False),  # 09:00 EDT
        ("2026-07-02 12:59", "America/New_York", True),
    ],
)
def test_quiet_hours_in_the_customers_own_zone(utc: str, zone: str, quiet: bool) -> None:
    assert is_quiet(at(utc), ZoneInfo(zone), RULES) is quiet


def test_quiet_hours_end_is_the_next_local_morning() -> None:
    warsaw = ZoneInfo("Europe/Warsaw")
    assert quiet_hours_end(at("2026-03-02 21:30"), warsaw, RULES) == at("2026-03-03 08:00")
    assert quiet_hours_end(at("2026-03-02 03:00"), warsaw, RULES) == at("2026-03-02 08:00")
    assert quiet_hours_end(at("2026-03-02 12:00"), warsaw, RULES) == at("2026-03-02 12:00")


def test_quiet_hours_end_across_the_spring_dst_change() -> None:
    # The night of 2026-03-28/29 Warsaw moves to UTC+2: 09:00 on the 29th is 07:00 UTC.
    assert quiet_hours_end(at("2026-03-28 22:00"), ZoneInfo("Europe/Warsaw"), RULES) == at(
        "2026-03-29 07:00"
    )


def _facts(**overrides: object) -> Facts:
    values: dict[str, object] = {
        "kind": "post_delivery",
        "zone": UTC_ZONE,
        "opted_out": False,
        "channel": "sms",
        "last_survey_at": None,
    }
    values.update(overrides)
    return Facts(**values)  # type: ignore[arg-type]


def test_it_sends_a_due_survey_in_the_daytime() -> None:
    assert decide(_facts(), at("2026-03-02 12:00"), RULES).action == "send"


def test_it_suppresses_customers_who_opted_out() -> None:
    decision = decide(_facts(opted_out=True), at("2026-03-02 12:00"), RULES)
    assert (decision.action, decision.reason) == ("suppress", "customer opted out")


def test_it_suppresses_a_survey_inside_the_throttle_window_with_the_reason() -> None:
    decision = decide(_facts(last_survey_at=at("2026-02-25 12:00")), at("2026-03-02 12:00"), RULES)
    assert decision.action == "suppress"
    assert (
        decision.reason is not None
        and "throttled" in decision.reason
        and "2026-02-25" in decision.reason
    )


@pytest.mark.parametrize("kind", ["delay_notice", "recovery"])
def test_delay_notices_and_recovery_are_exempt_from_the_throttle(kind: str) -> None:
    assert (
        decide(
            _facts(kind=kind, last_survey_at=at("2026-03-01 12:00")), at("2026-03-02 12:00"), RULES
        ).action
        == "send"
    )


def test_it_holds_surveys_while_an_escalation_is_open() -> None:
    decision = decide(_facts(open_escalation_id=7), at("2026-03-02 12:00"), RULES)
    assert decision.action == "wait" and decision.reason == "held: escalation #7 is still open"


def test_it_holds_surveys_while_a_delivery_is_overdue_but_not_the_delay_notice() -> None:
    now = at("2026-03-02 12:00")
    assert decide(_facts(overdue_product="Sofa Oslo"), now, RULES).action == "wait"
    assert (
        decide(_facts(kind="delay_notice", overdue_product="Sofa Oslo"), now, RULES).action
        == "send"
    )


def test_night_work_waits_for_the_local_morning_with_the_reason() -> None:
    decision = decide(
        _facts(zone=ZoneInfo("Asia/Bangkok")), at("2026-03-02 15:00"), RULES
    )  # 22:00 in Bangkok
    assert decision.action == "wait"
    assert decision.not_before == at("2026-03-03 02:00")
    assert decision.reason == "quiet hours: waits until 2026-03-03 09:00 Asia/Bangkok"


def test_quiet_hours_are_configurable() -> None:
    rules = CadenceRules(
        quiet_start=RULES.quiet_start.replace(hour=22), quiet_end=RULES.quiet_end.replace(hour=8)
    )
    assert decide(_facts(), at("2026-03-02 21:00"), rules).action == "send"


def test_reach_prefers_the_customers_channel_and_falls_back() -> None:
    from types import SimpleNamespace

    from messaging.channels.registry import reach

    def person(phone: str | None, chat: int | None, dead: bool = False) -> SimpleNamespace:
        blocked = at("2026-03-01 10:00") if dead else None
        return SimpleNamespace(phone=phone, telegram_chat_id=chat, telegram_unreachable_at=blocked)

    assert reach(person("+48601234567", 42), "telegram") == ("telegram", "42")
    assert reach(person("+48601234567", 42, dead=True), "telegram") == ("sms", "+48601234567")
    assert reach(person("+48601234567", None), "telegram") == ("sms", "+48601234567")
    assert reach(person(None, 42), "sms") == ("telegram", "42")
    assert reach(person("", None), "sms") is None


def test_rules_round_trip_through_json_and_reject_unknown_keys() -> None:
    assert CadenceRules.from_json(RULES.to_json()) == RULES
    with pytest.raises(ValueError, match="unknown cadence setting"):
        CadenceRules.from_json({"throttle_dayz": 3})


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"expire_days": 0}, {"expire_days": "must be between 1 and 3650"}),
        ({"periodic_days": float("nan")}, {"periodic_days": "must be between 1 and 3650"}),
        (
            {"escalation_sla_hours": 10_000},
            {"escalation_sla_hours": "must be between 0.25 and 720"},
        ),
        ({"service_categories": ["Car!"]}, {"service_categories": "'car!' is not a category name"}),
        ({"post_delivery_days": {"car": -1}}, {"post_delivery_days": "car: days must be between"}),
        ({"quiet_start": "09:00"}, {"quiet_start": "must differ from the start of sending"}),
        ({"reminder_days": 9}, {"reminder_days": "the reminder must come before the survey"}),
    ],
)
def test_the_rules_check_themselves_whoever_changes_them(
    change: dict[str, object], problem: dict[str, str]
) -> None:
    # The settings page, stored JSON and any API go through the same checks.
    from cadence.rules import InvalidRules

    with pytest.raises(InvalidRules) as raised:
        DEFAULT_RULES.changed(change)
    [(name, why)] = raised.value.problems.items()
    [(expected_name, expected_why)] = problem.items()
    assert name == expected_name and why.startswith(expected_why)
    with pytest.raises(InvalidRules):
        CadenceRules.from_json({**DEFAULT_RULES.to_json(), **change})
