"""Why a customer would hear nothing now: the scheduler's own decision, asked on the admin's behalf.

The customer page must never reason about holds by itself (it once used the UTC
date where the scheduler uses the customer's own, and the two disagreed around
midnight). It asks `decide()` about a survey due now, with the facts the
scheduler would gather.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cadence.decisions import Decision, decide
from cadence.rules import CadenceRules
from scheduler.dispatch import Neighbourhood


@dataclass(frozen=True)
class _SurveyNow:
    """A periodic survey due now: what the scheduler would decide for any survey."""

    customer_id: int
    due_at: datetime
    id: int = 0
    purchase_id: int | None = None
    kind: str = "periodic"


def survey_now(
    session: Session, customer_id: int, now: datetime, rules: CadenceRules, default_tz: str
) -> Decision:
    """What the scheduler would do with a survey to this customer at `now`, and why."""
    probe = _SurveyNow(customer_id=customer_id, due_at=now)
    around = Neighbourhood(session, [probe], now, default_tz)
    return decide(around.facts(probe, now, default_tz), now, rules)
