"""When each kind of check-in falls due: small pure functions of the facts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cadence.quiet_hours import start_of_day
from cadence.rules import CadenceRules


def post_delivery_due(delivered_at: datetime, category: str, rules: CadenceRules) -> datetime:
    """The post-delivery survey: delivery plus the category's delay."""
    return delivered_at + rules.post_delivery_delay(category)


def post_delivery_too_late(due_at: datetime, now: datetime, rules: CadenceRules) -> bool:
    """Too long past its time to ask "how was the delivery?" at all."""
    return now - due_at > timedelta(days=rules.post_delivery_max_lateness_days)


def delay_notice_due(promised: date, zone: ZoneInfo) -> datetime:
    """The apology for a missed date: the start of the next day in the customer's zone."""
    return start_of_day(promised + timedelta(days=1), zone)


def periodic_due(anchor: datetime, rules: CadenceRules) -> datetime:
    """The regular check-in: `periodic_days` after the last survey (or first delivery)."""
    return anchor + timedelta(days=rules.periodic_days)


def first_service_at(delivered_at: datetime, category: str, rules: CadenceRules) -> datetime | None:
    """The first proactive service check, or None for categories that have none."""
    if category.lower() not in rules.service_categories:
        return None
    return delivered_at + timedelta(days=rules.service_days)


def service_number(delivered_at: datetime, due_at: datetime, rules: CadenceRules) -> int:
    """Which service check this is (1 for the first), for its idempotency key."""
    return max(1, round((due_at - delivered_at) / timedelta(days=rules.service_days)))


def service_catch_up(
    due_at: datetime, now: datetime, rules: CadenceRules
) -> tuple[datetime | None, datetime]:
    """(the service check to plan now or None when it is stale, the next one after `now`).

    An old purchase may have missed several checks; only the latest counts,
    and only if it is recent enough to still make sense.
    """
    interval = timedelta(days=rules.service_days)
    latest = due_at + ((now - due_at) // interval) * interval
    fresh = now - latest <= timedelta(days=rules.service_max_lateness_days)
    return (latest if fresh else None), latest + interval


def recovery_due(resolved_at: datetime, rules: CadenceRules) -> datetime:
    return resolved_at + timedelta(days=rules.recovery_days)


def is_throttled(last_survey_at: datetime | None, now: datetime, rules: CadenceRules) -> bool:
    """At most one survey per customer in `throttle_days`."""
    if last_survey_at is None:
        return False
    return now - last_survey_at < timedelta(days=rules.throttle_days)
