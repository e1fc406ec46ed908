"""Reconciliation: settling claims whose lease ran out before their outcome was written.

A lease runs out when its process died mid-send (kill -9, a lost machine), or
when a send timed out after the request left ("uncertain"). The provider may
or may not have the message. Where it can tell (Twilio lists the messages to a
recipient), we ask: found means sent, with its id; not found means send again.
Where it cannot (the Telegram Bot API), a lost claim is sent again and flagged
as a possible duplicate; an uncertain Telegram send is never resent. Nothing
stays in `sending`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from messaging.outbox.queue import BOT_STARTED, BULK, INTERACTIVE
from messaging.outbox.record import keep_out_of_the_night, settle_checkin
from messaging.receipts import apply_early
from models import CheckIn, Message
from models.db import claimed, in_state
from models.states import SETTLES_CHECKIN, MessageStatus

# A margin before the lost attempt's claim: clocks of two machines differ a little.
LOOK_BACK_MARGIN = timedelta(minutes=2)


@dataclass(slots=True)
class Lost:
    id: int
    channel: str
    address: str
    body: str
    status: str  # "sending" (its process died) or "uncertain" (a timeout after sending)
    since: datetime  # a little before the lost attempt was claimed, on the real clock
    customer_id: int | None
    purpose: str


def take_lost(
    session: Session, real_now: datetime, worker: str, lease: timedelta, limit: int = 200
) -> list[Lost]:
    """Take over up to `limit` messages whose lease ran out, with a fresh lease of ours.

    One conditional UPDATE, so two reconcilers (or a reconciler and a late outcome)
    never both hold a row: whoever writes it afterwards must still be its holder.
    """
    expired = (
        select(Message.id)
        .where(
            in_state(Message.status, MessageStatus.SENDING, MessageStatus.UNCERTAIN),
            Message.lease_until < real_now,
        )
        .order_by(Message.lease_until, Message.id)  # longest lost first, in the index's order
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(Message)
        .where(
            claimed(session, expired, Message.id),
            Message.status.in_((MessageStatus.SENDING, MessageStatus.UNCERTAIN)),
            Message.lease_until < real_now,
        )
        .values(claimed_by=worker, lease_until=real_now + lease)
        .returning(
            Message.id,
            Message.channel,
            Message.address,
            Message.body,
            Message.status,
            Message.claimed_at,
            Message.customer_id,
            Message.purpose,
        ),
        execution_options={"synchronize_session": False},
    ).all()
    return [
        Lost(
            row.id,
            row.channel,
            row.address,
            row.body,
            row.status,
            (row.claimed_at or real_now - 2 * lease) - LOOK_BACK_MARGIN,
            row.customer_id,
            row.purpose,
        )
        for row in sorted(rows, key=lambda r: r.id)
    ]


def adopt_older_versions(session: Session, real_now: datetime, lease: timedelta) -> None:
    """Messages left by a version without lanes or leases, during a rolling upgrade."""
    session.execute(
        update(Message)
        .where(
            Message.lane.is_(None),
            Message.direction == "out",
            in_state(Message.status, MessageStatus.QUEUED),
        )
        .values(
            lane=case((Message.purpose.in_(BOT_STARTED), BULK), else_=INTERACTIVE),
        ),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(Message)
        .where(in_state(Message.status, MessageStatus.SENDING), Message.lease_until.is_(None))
        .values(claimed_at=real_now, lease_until=real_now + lease),
        execution_options={"synchronize_session": False},
    )


@dataclass(slots=True)
class Finding:
    lost: Lost
    # "looked_up" (the provider answered: `candidates` are its matching ids), "blind" (it
    # cannot tell), or "unknown" (the look-up failed: tried again when our lease runs out).
    how: str
    candidates: tuple[str, ...] = ()


def settle(
    session: Session, now: datetime, worker: str, findings: list[Finding], default_tz: str
) -> dict[str, int]:
    """Write what the look-ups found, in the caller's transaction; count the outcomes.

    Outcomes: "found" (the provider has it), "resent" (it has not), "resent_blind"
    (it cannot tell, and the claim was lost before or during the call), and
    "kept_uncertain" (it cannot tell, and the request certainly left: never resent).
    """
    settled = [f for f in findings if f.how != "unknown"]
    counts: dict[str, int] = {}
    if not settled:
        return counts
    rows = {
        m.id: m
        for m in session.scalars(
            select(Message).where(
                Message.id.in_([f.lost.id for f in settled]), Message.claimed_by == worker
            )
        )
    }
    # A provider id already on another message belongs to that message, not this one.
    candidates = {c for f in settled for c in f.candidates}
    taken: set[str] = set()
    if candidates:
        query = select(Message.provider_id).where(
            Message.provider_id.in_(candidates), Message.id.not_in(rows)
        )
        taken = {provider_id for provider_id in session.scalars(query) if provider_id}
    resent: list[Message] = []
    for finding in settled:
        row = rows.get(finding.lost.id)
        if row is None or row.status not in ("sending", "uncertain"):
            continue  # no longer ours
        outcome, provider_id = _outcome(finding, taken)
        counts[outcome] = counts.get(outcome, 0) + 1
        if provider_id:
            taken.add(provider_id)
        _apply(session, now, row, outcome, provider_id)
        if row.status == MessageStatus.QUEUED:
            resent.append(row)
    # A survey resent after a crash at 19:55 waits for the morning like any other.
    due = keep_out_of_the_night(
        session, [(row.customer_id, row.purpose, now) for row in resent], default_tz
    )
    for row, when in zip(resent, due, strict=True):
        row.next_attempt_at = when
    return counts


def _outcome(finding: Finding, taken: set[str]) -> tuple[str, str | None]:
    if finding.how == "looked_up":
        free = [c for c in finding.candidates if c not in taken]
        return ("found", free[0]) if free else ("resent", None)
    if finding.lost.status == MessageStatus.UNCERTAIN:
        return "kept_uncertain", None
    return "resent_blind", None


def _apply(
    session: Session, now: datetime, row: Message, outcome: str, provider_id: str | None
) -> None:
    row.lease_until = None
    row.reconciliation = None if outcome == "kept_uncertain" else outcome
    if outcome == "found":
        row.status, row.provider_id, row.sent_at, row.error = "sent", provider_id, now, None
    elif outcome in ("resent", "resent_blind"):
        row.status, row.next_attempt_at = "queued", now
        return
    else:
        row.status = "uncertain"
    if row.checkin_id is not None and row.purpose in SETTLES_CHECKIN:
        settle_checkin(now, session.get_one(CheckIn, row.checkin_id), row)
    if outcome == "found" and provider_id:
        session.flush()  # the id, so that receipts which came meanwhile find their message
        apply_early(session, [(row.channel, provider_id)])
