"""Whether a due check-in goes now, waits, or is suppressed: one pure function.

Every outcome carries its reason in words an admin can read, so "why did this
customer get nothing?" always has an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cadence.due import is_throttled
from cadence.quiet_hours import is_quiet, quiet_hours_end
from cadence.rules import CadenceRules
from models.states import SURVEY_KINDS, THROTTLED_KINDS, CheckInKind


@dataclass(frozen=True)
class Facts:
    """What the decision needs to know about one due check-in and its customer."""

    kind: str
    zone: ZoneInfo
    opted_out: bool
    channel: str | None  # the channel we can reach them on, None when none
    last_survey_at: datetime | None
    open_escalation_id: int | None = None
    overdue_product: str | None = None
    # For a delay notice: the product, when it was delivered after the notice was planned.
    delivered_product: str | None = None


@dataclass(frozen=True)
class Decision:
    action: str  # "send", "wait" or "suppress"
    reason: str | None = None
    not_before: datetime | None = None


def decide(facts: Facts, now: datetime, rules: CadenceRules) -> Decision:
    """The fate of a due check-in at `now`."""
    if facts.opted_out:
        return Decision("suppress", "customer opted out")
    if facts.channel is None:
        return Decision(
            "suppress", "no way to reach the customer: no phone and no linked Telegram chat"
        )
    if facts.kind == CheckInKind.DELAY_NOTICE and facts.delivered_product is not None:
        # A notice planned at midnight waits for 09:00; an apology for a late order
        # that arrived in the meantime would be plain wrong.
        return Decision(
            "suppress", f"{facts.delivered_product} was delivered before the apology went out"
        )
    if facts.kind in THROTTLED_KINDS and is_throttled(facts.last_survey_at, now, rules):
        assert facts.last_survey_at is not None
        return Decision(
            "suppress",
            f"throttled: a survey went out on {facts.last_survey_at:%Y-%m-%d %H:%M} UTC "
            f"(at most one every {rules.throttle_days:g} days)",
        )
    if facts.kind in SURVEY_KINDS:
        recheck = now + timedelta(minutes=rules.hold_recheck_minutes)
        if facts.open_escalation_id is not None:
            return Decision(
                "wait", f"held: escalation #{facts.open_escalation_id} is still open", recheck
            )
        if facts.overdue_product is not None:
            return Decision(
                "wait", f"held: {facts.overdue_product} is overdue and not delivered yet", recheck
            )
    if is_quiet(now, facts.zone, rules):
        wake = quiet_hours_end(now, facts.zone, rules)
        local = wake.astimezone(facts.zone)
        return Decision(
            "wait", f"quiet hours: waits until {local:%Y-%m-%d %H:%M} {facts.zone.key}", wake
        )
    return Decision("send")
