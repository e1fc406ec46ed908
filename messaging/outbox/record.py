"""Writing down what happened to claimed messages, many at a time.

The common outcome (sent) is one executemany UPDATE for the messages and one
for their check-ins; the rare ones (retry, failure, a dead Telegram chat) load
their rows and go through the rules below.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from cadence.quiet_hours import quiet_hours_end, zone_for
from cadence.rules import load_rules
from messaging.outbox.claims import Claimed, release, still_held
from messaging.outbox.queue import BOT_STARTED, queue_message, render_for
from models import CheckIn, Customer, Message, Rep

log = logging.getLogger(__name__)

# The outbox's own purposes whose check-in it settles (reminders belong to a sent check-in).
CHECKIN_PURPOSES = ("survey", "delay_notice")


@dataclass(slots=True)
class Outcome:
    """What became of one claimed message.

    `kind`: "sent", "retry", "failed", "uncertain", "unreachable", "cancelled",
    "released" (given back unsent: a pause, a shutdown, or too late to start within
    the lease) or "abandoned" (the process stopped during the provider call: it is
    reconciled as soon as a reconciler looks).
    """

    message: Claimed
    kind: str
    values: dict[str, Any] = field(default_factory=dict)


def record(
    session: Session,
    now: datetime,
    real_now: datetime,
    worker: str,
    outcomes: list[Outcome],
    default_tz: str,
) -> None:
    """Write `outcomes` in the caller's transaction; `now` is the pass's time, `real_now` the clock's.

    Only claims `worker` still holds are written: a claim whose lease ran out belongs
    to whoever reconciles it, and a late outcome must not overwrite theirs.
    """
    by_kind: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_kind.setdefault(outcome.kind, []).append(outcome)
    _record_sent(session, now, worker, by_kind.pop("sent", []))
    released = by_kind.pop("released", [])
    keep_out_of_the_night(
        session,
        [(o.message.customer_id, o.message.purpose, o.values, "due") for o in released],
        default_tz,
    )
    release(session, worker, [(o.message.id, o.values["due"]) for o in released])
    abandoned = by_kind.pop("abandoned", [])
    if abandoned:
        # The request may have reached the provider: reconciliation decides, at once.
        session.execute(
            update(Message)
            .where(
                Message.id.in_([o.message.id for o in abandoned]),
                Message.status == "sending",
                Message.claimed_by == worker,
            )
            .values(lease_until=real_now),
            execution_options={"synchronize_session": False},
        )
    rest = [o for kind_outcomes in by_kind.values() for o in kind_outcomes]
    if rest:
        _record_the_rest(session, now, real_now, worker, rest, default_tz)


def _record_sent(session: Session, now: datetime, worker: str, sent: list[Outcome]) -> None:
    if not sent:
        return
    connection = session.connection()
    written = connection.execute(
        update(Message)
        .where(*still_held(worker))
        .values(
            status="sent",
            provider_id=bindparam("provider"),
            sent_at=now,
            error=None,
            error_code=None,
            lease_until=None,
        ),
        [{"message_id": o.message.id, "provider": o.values["provider_id"]} for o in sent],
    )
    if written.rowcount not in (-1, len(sent)):
        log.warning(
            "%d sent messages had been taken over by reconciliation; it settles them",
            len(sent) - written.rowcount,
        )
    settled = [
        {"checkin": o.message.checkin_id, "channel": o.message.channel}
        for o in sent
        if o.message.checkin_id is not None and o.message.purpose in CHECKIN_PURPOSES
    ]
    if settled:
        connection.execute(
            update(CheckIn)
            .where(CheckIn.id == bindparam("checkin"), CheckIn.status == "queued")
            .values(status="sent", sent_at=now, channel=bindparam("channel")),
            settled,
        )


def _record_the_rest(
    session: Session,
    now: datetime,
    real_now: datetime,
    worker: str,
    outcomes: list[Outcome],
    default_tz: str,
) -> None:
    keep_out_of_the_night(
        session,
        [
            (o.message.customer_id, o.message.purpose, o.values, "next_attempt_at")
            for o in outcomes
            if o.kind == "retry"
        ],
        default_tz,
    )
    # Load the rows once; recording then touches no row twice.
    ids = [o.message.id for o in outcomes]
    rows = {
        m.id: m
        for m in session.scalars(
            select(Message).where(
                Message.id.in_(ids), Message.status == "sending", Message.claimed_by == worker
            )
        )
    }
    checkin_ids = [o.message.checkin_id for o in outcomes if o.message.checkin_id is not None]
    checkins = (
        {c.id: c for c in session.scalars(select(CheckIn).where(CheckIn.id.in_(checkin_ids)))}
        if checkin_ids
        else {}
    )
    with session.no_autoflush:
        for outcome in outcomes:
            row = rows.get(outcome.message.id)
            if row is not None:  # else reconciliation took it over
                _record_one(session, now, real_now, row, outcome, checkins)


def keep_out_of_the_night(
    session: Session,
    due: list[tuple[int | None, str, dict[str, Any], str]],
    default_tz: str,
) -> None:
    """Move bot-started messages' next time out of their customers' quiet hours.

    `due` holds (customer id, purpose, values, key): values[key] is the time to move.
    Dispatch checked the hours when it queued the message; a backoff, a provider's
    Retry-After or a pause can still carry it past 20:00, and only SMS has a
    validity period.
    """
    moving = [
        (customer_id, values, key)
        for customer_id, purpose, values, key in due
        if purpose in BOT_STARTED and customer_id
    ]
    if not moving:
        return
    zones = dict(
        session.execute(
            select(Customer.id, Customer.timezone).where(
                Customer.id.in_({customer_id for customer_id, _, _ in moving})
            )
        ).all()
    )
    rules = load_rules(session)
    for customer_id, values, key in moving:
        zone = zone_for(zones.get(customer_id or 0), default_tz)
        values[key] = quiet_hours_end(values[key], zone, rules)


def _record_one(
    session: Session,
    now: datetime,
    real_now: datetime,
    row: Message,
    outcome: Outcome,
    checkins: dict[int, CheckIn],
) -> None:
    message, kind, values = outcome.message, outcome.kind, outcome.values
    row.error = values.get("error")
    row.error_code = values.get("error_code")
    row.lease_until = None
    if kind == "retry" and _withdrawn(message, checkins):
        # A STOP arrived while this attempt was in flight: it cancelled what was queued,
        # not this one. Queuing it again would let a later START send it after all.
        row.status = "cancelled"
    elif kind == "retry":
        row.status, row.next_attempt_at = "queued", values["next_attempt_at"]
    elif kind == "unreachable":
        row.status = "failed"
        _reroute_unreachable(session, now, row)
    else:
        row.status = kind  # failed, uncertain, cancelled
        if kind == "uncertain" and values.get("look_up_after"):
            # The provider can tell us later whether it has the message: reconciliation
            # asks once it has had its time, and sends it again if it has not.
            row.lease_until = real_now + values["look_up_after"]
    if message.checkin_id is not None and message.purpose in CHECKIN_PURPOSES:
        # An uncertain survey most likely reached the customer: it counts as sent, so
        # their reply is scored; if the provider turns out not to have it, it is resent.
        settle_checkin(now, checkins[message.checkin_id], row)


def _withdrawn(message: Claimed, checkins: dict[int, CheckIn]) -> bool:
    """Whether the message's check-in was closed while the message was in flight."""
    if message.checkin_id is None or message.purpose not in CHECKIN_PURPOSES:
        return False
    return checkins[message.checkin_id].status != "queued"


def _reroute_unreachable(session: Session, now: datetime, row: Message) -> None:
    """The recipient blocked the bot: mark a customer's Telegram dead, and resend by SMS.

    The text is rendered again for SMS ("reply with a number" instead of "tap a
    button"); without a phone there is nothing more to try.
    """
    if row.customer_id is not None:
        customer = session.get_one(Customer, row.customer_id)
        customer.telegram_unreachable_at = customer.telegram_unreachable_at or now
        phone = customer.phone
    elif row.rep_id is not None:
        phone = session.get_one(Rep, row.rep_id).phone
    else:
        return
    if not phone or row.channel == "sms":
        return
    queue_message(
        session,
        now=now,
        channel="sms",
        address=phone,
        body=render_for(session, row, "sms"),
        purpose=row.purpose,
        customer_id=row.customer_id,
        rep_id=row.rep_id,
        checkin_id=row.checkin_id,
    )
    row.checkin_id = None  # the new message carries the check-in now


def settle_checkin(now: datetime, checkin: CheckIn, row: Message) -> None:
    """Carry a message's final state to its check-in, if the check-in still waits for it."""
    if row.checkin_id is None or checkin.status != "queued":
        return
    if row.status in ("sent", "uncertain"):
        checkin.status, checkin.sent_at, checkin.channel = "sent", now, row.channel
        if row.status == "uncertain":
            checkin.error = f"uncertain: {row.error}"
    elif row.status in ("failed", "cancelled"):
        checkin.status = "failed" if row.status == "failed" else "suppressed"
        checkin.error = row.error
        checkin.reason = row.error if row.status == "cancelled" else f"send failed: {row.error}"
        checkin.closed_at = now
