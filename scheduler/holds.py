"""A person's hold on one check-in, from the Upcoming page: pause, resume, or cancel it.

- pause: it stays scheduled but `claim_due` never takes it (`paused_at` is set)
  until it is resumed; its reason says who paused it;
- resume: `paused_at` and any wait are cleared, so the next pass decides it anew;
- cancel: it ends as `suppressed`, with "cancelled by ...: <reason>" as its reason.

Only a check-in that has not gone yet (`scheduled`) can be held. Each change is
written to the audit trail in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from accounts import audit
from models import CheckIn, Customer
from models.states import CheckInKind, CheckInStatus

REASON_CHARS = 500


class HoldError(ValueError):
    """What cannot be done to this check-in, in one line."""


def _pending(session: Session, checkin_id: int) -> CheckIn:
    checkin = session.get(CheckIn, checkin_id, with_for_update=True)
    if checkin is None:
        raise HoldError(f"no check-in {checkin_id}")
    if checkin.status != CheckInStatus.SCHEDULED:
        raise HoldError(
            f"check-in {checkin_id} is {checkin.status}: only a scheduled one can be held"
        )
    return checkin


def pause(session: Session, checkin_id: int, now: datetime, actor: str) -> CheckIn:
    checkin = _pending(session, checkin_id)
    if checkin.paused_at is not None:
        raise HoldError(f"check-in {checkin_id} is already paused")
    checkin.paused_at, checkin.reason = now, f"paused by {actor}"
    audit.record(session, now, actor, "checkin.pause", f"check-in {checkin_id}")
    session.flush()
    return checkin


def resume(session: Session, checkin_id: int, now: datetime, actor: str) -> CheckIn:
    checkin = _pending(session, checkin_id)
    if checkin.paused_at is None:
        raise HoldError(f"check-in {checkin_id} is not paused")
    checkin.paused_at, checkin.not_before, checkin.reason = None, None, None
    audit.record(session, now, actor, "checkin.resume", f"check-in {checkin_id}")
    session.flush()
    return checkin


def cancel(session: Session, checkin_id: int, now: datetime, actor: str, reason: str) -> CheckIn:
    reason = " ".join(reason.split())[:REASON_CHARS]
    if not reason:
        raise HoldError("say why the check-in is cancelled (the reason is required)")
    checkin = _pending(session, checkin_id)
    checkin.status, checkin.closed_at = CheckInStatus.SUPPRESSED, now
    checkin.paused_at, checkin.not_before = None, None
    checkin.reason = f"cancelled by {actor}: {reason}"
    if checkin.kind == CheckInKind.PERIODIC:
        # As dispatch does when it closes one: otherwise the next periodic is due at once.
        session.execute(
            update(Customer)
            .where(Customer.id == checkin.customer_id)
            .values(periodic_anchor_at=now)
        )
    audit.record(session, now, actor, "checkin.cancel", f"check-in {checkin_id}", reason)
    session.flush()
    return checkin
