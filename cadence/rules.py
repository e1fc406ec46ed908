"""The cadence rules: defaults from DESIGN.md, overridable by admins (stored as JSON).

The rules check themselves (a pydantic dataclass): every duration has a range,
category names a shape, and the rules as a whole make sense together (a sending
window that is not empty, a reminder before the survey expires). The settings
page, the stored JSON and any future API or CLI all go through these checks.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import field
from datetime import time, timedelta
from typing import Any

from pydantic import ValidationError, field_validator
from pydantic.dataclasses import dataclass
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import AppSetting, CheckIn
from models.states import CheckInStatus

SETTING_KEY = "cadence"
MAX_DAYS = 3650
CATEGORY = re.compile(r"[a-z0-9][a-z0-9 _-]{0,49}\Z")
# The allowed range of each number, in the field's own unit.
RANGES: dict[str, tuple[float, float]] = {
    "post_delivery_default_days": (0, MAX_DAYS),
    "post_delivery_max_lateness_days": (1, MAX_DAYS),
    "delay_notice_max_age_days": (1, MAX_DAYS),
    "periodic_days": (1, MAX_DAYS),
    "service_days": (1, MAX_DAYS),
    "service_max_lateness_days": (1, MAX_DAYS),
    "recovery_days": (0, MAX_DAYS),
    "throttle_days": (0, MAX_DAYS),
    "reminder_days": (0, MAX_DAYS),
    "expire_days": (1, MAX_DAYS),
    "escalation_sla_hours": (0.25, 24 * 30),
    "max_manager_reminders": (0, 100),
    "hold_recheck_minutes": (1, 24 * 60),
}


class InvalidRules(ValueError):
    """Rules that cannot be used; `problems` maps each field to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in problems.items()))
        self.problems = problems


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _category(name: str) -> str:
    name = name.strip().lower()
    if not CATEGORY.match(name):
        raise ValueError(f"{name!r} is not a category name (letters, digits, - and _)")
    return name


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

    @field_validator(*RANGES)
    @classmethod
    def _in_range(cls, value: float, info: Any) -> float:
        low, high = RANGES[info.field_name]
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"must be between {_number(low)} and {_number(high)}")
        return value

    @field_validator("post_delivery_days")
    @classmethod
    def _category_days(cls, value: dict[str, float]) -> dict[str, float]:
        days = {}
        for name, amount in value.items():
            if not math.isfinite(amount) or not 0 <= amount <= MAX_DAYS:
                raise ValueError(f"{name}: days must be between 0 and {MAX_DAYS}")
            days[_category(name)] = amount
        return days

    @field_validator("service_categories")
    @classmethod
    def _categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_category(name) for name in value))

    def __post_init__(self) -> None:
        problems = cross_problems(dataclasses.asdict(self))
        if problems:
            raise InvalidRules(problems)

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
    def from_json(cls, data: Mapping[str, Any]) -> CadenceRules:
        """Build rules from admin JSON; raises InvalidRules naming each bad or unknown field."""
        return checked(cls, data)

    def changed(self, values: Mapping[str, Any]) -> CadenceRules:
        """These rules with `values` changed; raises InvalidRules naming each problem."""
        return checked(CadenceRules, {**self.to_json(), **values})


def cross_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with the rules taken together, by the field to fix."""
    problems = {}
    if values["quiet_start"] == values["quiet_end"]:
        problems["quiet_start"] = (
            "must differ from the start of sending: the sending window would be empty"
        )
    if values["reminder_days"] and values["reminder_days"] >= values["expire_days"]:
        problems["reminder_days"] = (
            "the reminder must come before the survey expires "
            f"({_number(values['expire_days'])} days), or be 0"
        )
    return problems


def checked(cls: type[CadenceRules], data: Mapping[str, Any]) -> CadenceRules:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidRules({name: "unknown cadence setting" for name in unknown})
    try:
        return cls(**data)
    except InvalidRules:
        raise
    except ValidationError as error:
        problems: dict[str, str] = {}
        for item in error.errors():
            cause = item.get("ctx", {}).get("error")
            if isinstance(cause, InvalidRules):  # from __post_init__: the rules as a whole
                problems.update(cause.problems)
                continue
            name = str(item["loc"][0]) if item["loc"] else "rules"
            problems.setdefault(name, str(item["msg"]).removeprefix("Value error, "))
        raise InvalidRules(problems) from None


DEFAULT_RULES = CadenceRules()


def load_rules(session: Session) -> CadenceRules:
    """The rules in force: the defaults with whatever admins changed."""
    row = session.get(AppSetting, SETTING_KEY)
    if row is None or not row.value:
        return DEFAULT_RULES
    return CadenceRules.from_json({**DEFAULT_RULES.to_json(), **row.value})


def save_rules(session: Session, rules: CadenceRules) -> None:
    """Put `rules` in force; check-ins waiting under the old rules are re-decided next pass."""
    before = load_rules(session)
    row = session.get(AppSetting, SETTING_KEY)
    if row is None:
        session.add(AppSetting(key=SETTING_KEY, value=rules.to_json()))
    else:
        row.value = rules.to_json()
    if rules != before:
        release_waiting(session)


def release_waiting(session: Session) -> None:
    """Forget every wake-up time: each was worked out from rules that have just changed.

    The next pass decides these check-ins (and reminders) again under the rules
    now in force, so a wider window sends at once and a narrower one waits anew.
    Their reason stays until then: it was true when written.
    """
    session.execute(
        update(CheckIn)
        .where(
            CheckIn.not_before.is_not(None),
            CheckIn.status.in_((CheckInStatus.SCHEDULED, CheckInStatus.SENT)),
        )
        .values(not_before=None),
        execution_options={"synchronize_session": False},
    )
