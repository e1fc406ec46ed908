"""The cadence rules: defaults from DESIGN.md, overridable by admins (stored as JSON)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from models import AppSetting

SETTING_KEY = "cadence"


@dataclass(frozen=True)
class CadenceRules:
    """Everything that decides when a customer hears from us. Durations in days/hours."""

    post_delivery_days: dict[str, float] = field(
        default_factory=lambda: {"car": 1, "dental": 2, "garage": 7}
    )
    post_delivery_default_days: float = 2
    # A purchase delivered longer ago than this (past its delay) gets no post-delivery survey:
    # importing last year's sales must not start a wave of "how was your delivery?".
    post_delivery_max_lateness_days: float = 30
    delay_notice_max_age_days: float = 30
    periodic_days: float = 90
    service_days: float = 182
    service_categories: tuple[str, ...] = ("car", "garage", "machinery")
    # Service checks missed by longer than this (old purchases just imported) are
    # skipped: the customer gets the next one on time, not a backlog.
    service_max_lateness_days: float = 30
    recovery_days: float = 3
    throttle_days: float = 14
    quiet_start: time = time(20, 0)
    quiet_end: time = time(9, 0)
    reminder_days: float = 3
    expire_days: float = 7
    escalation_sla_hours: float = 2
    max_manager_reminders: int = 1
    # How often a held survey is looked at again.
    hold_recheck_minutes: float = 5
    review_invite_all: bool = False

    def post_delivery_delay(self, category: str) -> timedelta:
        days = self.post_delivery_days.get(category.lower(), self.post_delivery_default_days)
        return timedelta(days=days)

    @property
    def min_post_delivery_delay(self) -> timedelta:
        return timedelta(
            days=min([self.post_delivery_default_days, *self.post_delivery_days.values()])
        )

    @property
    def max_post_delivery_delay(self) -> timedelta:
        return timedelta(
            days=max([self.post_delivery_default_days, *self.post_delivery_days.values()])
        )

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["quiet_start"] = self.quiet_start.strftime("%H:%M")
        data["quiet_end"] = self.quiet_end.strftime("%H:%M")
        data["service_categories"] = list(self.service_categories)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CadenceRules:
        """Build rules from admin JSON; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown cadence setting(s): {', '.join(unknown)}")
        values = dict(data)
        for name in ("quiet_start", "quiet_end"):
            if isinstance(values.get(name), str):
                values[name] = time.fromisoformat(values[name])
        if "service_categories" in values:
            values["service_categories"] = tuple(values["service_categories"])
        return cls(**values)


DEFAULT_RULES = CadenceRules()


def load_rules(session: Session) -> CadenceRules:
    """The rules in force: the defaults with whatever admins changed."""
    row = session.get(AppSetting, SETTING_KEY)
    if row is None or not row.value:
        return DEFAULT_RULES
    return CadenceRules.from_json({**DEFAULT_RULES.to_json(), **row.value})


def save_rules(session: Session, rules: CadenceRules) -> None:
    row = session.get(AppSetting, SETTING_KEY)
    if row is None:
        session.add(AppSetting(key=SETTING_KEY, value=rules.to_json()))
    else:
        row.value = rules.to_json()
