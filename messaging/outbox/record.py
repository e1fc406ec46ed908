"""Writing down what happened to claimed messages, many at a time.

The common outcome (sent) is one UPDATE for the messages and one per channel
for their check-ins; the rare ones (retry, failure, a dead Telegram chat) load
their rows and go through the rules below.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ARRAY, Integer, String, bindparam, func, select, update
from sqlalchemy.orm import Session

from cadence.quiet_hours import quiet_hours_end, zone_for
from cadence.rules import load_rules
from events import EventType, record_event
from events.payloads import message_data
from messaging.channels import registry
from messaging.channels.base import buttons_from_json
from messaging.outbox.claims import Claimed, release, still_held
from messaging.outbox.queue import queue_message, render_for
from messaging.receipts import apply_early
from models import CheckIn, Customer, Message, Rep
from models.db import one_of
from models.states import BOT_STARTED, SETTLES_CHECKIN, CheckInStatus, MessageStatus

log = logging.getLogger(__name__)


class OutcomeKind(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # sent again at `when`
    FAILED = "failed"
    UNCERTAIN = "uncertain"  # may have reached the provider: looked up after `look_up_after`
    UNREACHABLE = "unreachable"  # the address is dead on this channel
    CANCELLED = "cancelled"  # must not go any more (the customer opted out)
    # Given back unsent, due again at `when`: a pause, a shutdown, or too late to start
    # within the lease.
    RELEASED = "released"
    # The process stopped during the provider call: reconciled as soon as a reconciler looks.
    ABANDONED = "abandoned"


@dataclass(slots=True)
class Outcome:
    """What became of one claimed message."""

    message: Claimed
    kind: OutcomeKind
    provider_id: str | None = None  # sent
    error: str | None = None
    error_code: str | None = None
    when: datetime | None = None  # retry and released: when it is due again
    look_up_after: timedelta | None = None  # uncertain, on a channel that can look up


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
    by_kind: dict[OutcomeKind, list[Outcome]] = {}
    for outcome in outcomes:
        by_kind.setdefault(outcome.kind, []).append(outcome)
    _record_sent(session, now, worker, by_kind.pop(OutcomeKind.SENT, []))
    released = by_kind.pop(OutcomeKind.RELEASED, [])
    _out_of_the_night(session, released, default_tz)
    release(session, worker, [(o.message.id, o.when or now) for o in released])
    abandoned = by_kind.pop(OutcomeKind.ABANDONED, [])
    if abandoned:
        # The request may have reached the provider: reconciliation decides, at once.
        session.execute(
            update(Message)
            .where(
                Message.id.in_([o.message.id for o in abandoned]),
                Message.status == MessageStatus.SENDING,
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
    written = _mark_sent(session, now, worker, sent)
    if written not in (-1, len(sent)):
        log.warning(
            "%d sent messages had been taken over by reconciliation; it settles them",
            len(sent) - written,
        )
    by_channel: dict[str, list[int]] = {}
    for o in sent:
        if o.message.checkin_id is not None and o.message.purpose in SETTLES_CHECKIN:
            by_channel.setdefault(o.message.channel, []).append(o.message.checkin_id)
    for channel, checkin_ids in by_channel.items():
        connection.execute(
            update(CheckIn)
            .where(one_of(session, CheckIn.id, checkin_ids), CheckIn.status == CheckInStatus.QUEUED)
            .values(status="sent", sent_at=now, channel=channel)
        )
    # Receipts that overtook this batch, now that their messages have ids (after the
    # check-ins: a failed delivery marks its sent check-in failed).
    apply_early(session, [(o.message.channel, o.provider_id) for o in sent if o.provider_id])


_SENT = {"status": "sent", "error": None, "error_code": None, "lease_until": None}


def _mark_sent(session: Session, now: datetime, worker: str, sent: list[Outcome]) -> int:
    """Mark the messages sent with their provider ids; how many were still this worker's.

    PostgreSQL takes the batch as two arrays in one statement (`UPDATE ... FROM
    unnest(ids, provider ids)`): one round trip and one plan for hundreds of rows.
    SQLite, in-process, runs the same change row by row.
    """
    connection = session.connection()
    if session.get_bind().dialect.name == "postgresql":
        given = (
            func.unnest(
                bindparam("ids", [o.message.id for o in sent], type_=ARRAY(Integer)),
                bindparam("providers", [o.provider_id for o in sent], type_=ARRAY(String)),
            )
            .table_valued("message_id", "provider")
            .render_derived()
        )
        statement = (
            update(Message)
            .where(
                Message.id == given.c.message_id,
                Message.status == MessageStatus.SENDING,
                Message.claimed_by == worker,
            )
            .values(provider_id=given.c.provider, sent_at=now, **_SENT)
        )
        return int(connection.execute(statement).rowcount)
    written = connection.execute(
        update(Message)
        .where(*still_held(worker))
        .values(provider_id=bindparam("provider"), sent_at=now, **_SENT),
        [{"message_id": o.message.id, "provider": o.provider_id} for o in sent],
    )
    return int(written.rowcount)


def _record_the_rest(
    session: Session,
    now: datetime,
    real_now: datetime,
    worker: str,
    outcomes: list[Outcome],
    default_tz: str,
) -> None:
    _out_of_the_night(session, [o for o in outcomes if o.kind is OutcomeKind.RETRY], default_tz)
    # Load the rows once; recording then touches no row twice.
    ids = [o.message.id for o in outcomes]
    rows = {
        m.id: m
        for m in session.scalars(
            select(Message).where(
                Message.id.in_(ids),
                Message.status == MessageStatus.SENDING,
                Message.claimed_by == worker,
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


def _out_of_the_night(session: Session, outcomes: list[Outcome], default_tz: str) -> None:
    """Move each outcome's `when` out of its customer's quiet hours (see below)."""
    moved = keep_out_of_the_night(
        session,
        [(o.message.customer_id, o.message.purpose, o.when) for o in outcomes if o.when],
        default_tz,
    )
    for outcome, when in zip([o for o in outcomes if o.when], moved, strict=True):
        outcome.when = when


def keep_out_of_the_night(
    session: Session,
    due: list[tuple[int | None, str, datetime]],
    default_tz: str,
) -> list[datetime]:
    """Each (customer id, purpose, time)'s time, moved out of the customer's quiet hours.

    Only bot-started messages move. Dispatch checked the hours when it queued the
    message; a backoff, a provider's Retry-After or a pause can still carry it past
    20:00, and only SMS has a validity period.
    """
    moving = [customer_id for customer_id, purpose, _ in due if purpose in BOT_STARTED]
    if not any(moving):
        return [when for _, _, when in due]
    zones = dict(
        session.execute(
            select(Customer.id, Customer.timezone).where(
                Customer.id.in_({customer_id for customer_id in moving if customer_id})
            )
        ).all()
    )
    rules = load_rules(session)
    return [
        quiet_hours_end(when, zone_for(zones.get(customer_id or 0), default_tz), rules)
        if purpose in BOT_STARTED and customer_id
        else when
        for customer_id, purpose, when in due
    ]


def _record_one(
    session: Session,
    now: datetime,
    real_now: datetime,
    row: Message,
    outcome: Outcome,
    checkins: dict[int, CheckIn],
) -> None:
    message, kind = outcome.message, outcome.kind
    row.error = outcome.error
    row.error_code = outcome.error_code
    row.lease_until = None
    if kind is OutcomeKind.RETRY and _withdrawn(message, checkins):
        # A STOP arrived while this attempt was in flight: it cancelled what was queued,
        # not this one. Queuing it again would let a later START send it after all.
        row.status = "cancelled"
    elif kind is OutcomeKind.RETRY:
        row.status, row.next_attempt_at = "queued", outcome.when
    elif kind is OutcomeKind.UNREACHABLE:
        row.status = "failed"
        if not _reroute_unreachable(session, now, row):
            record_event(session, now, EventType.MESSAGE_FAILED, lambda: message_data(session, row))
    else:
        row.status = kind.value  # failed, uncertain, cancelled
        if kind is OutcomeKind.UNCERTAIN and outcome.look_up_after:
            # The provider can tell us later whether it has the message: reconciliation
            # asks once it has had its time, and sends it again if it has not.
            row.lease_until = real_now + outcome.look_up_after
        if kind is OutcomeKind.FAILED:
            record_event(session, now, EventType.MESSAGE_FAILED, lambda: message_data(session, row))
    if message.checkin_id is not None and message.purpose in SETTLES_CHECKIN:
        # An uncertain survey most likely reached the customer: it counts as sent, so
        # their reply is scored; if the provider turns out not to have it, it is resent.
        settle_checkin(now, checkins[message.checkin_id], row)


def _withdrawn(message: Claimed, checkins: dict[int, CheckIn]) -> bool:
    """Whether the message's check-in was closed while the message was in flight."""
    if message.checkin_id is None or message.purpose not in SETTLES_CHECKIN:
        return False
    return checkins[message.checkin_id].status != CheckInStatus.QUEUED


def _reroute_unreachable(session: Session, now: datetime, row: Message) -> bool:
    """The address is dead (the bot was blocked, no such mailbox): mark it dead on the
    customer or rep (where the registry keeps a column for it), and resend elsewhere.

    The text is rendered again for the other channel (on SMS "reply with a number"
    instead of "tap a button"); with no other channel there is nothing more to try
    (a rep's unanswered alert still reaches their manager when the SLA runs out).
    True when it was resent.
    """
    person: Customer | Rep
    if row.customer_id is not None:
        person = session.get_one(Customer, row.customer_id)
    elif row.rep_id is not None:
        person = session.get_one(Rep, row.rep_id)
    else:
        return False
    registry.mark_dead(row.channel, person, now)
    found = registry.reach(person, None, besides=row.channel)
    if found is None:
        return False
    channel, address = found
    queue_message(
        session,
        now=now,
        channel=channel,
        address=address,
        body=render_for(session, row, channel),
        # A survey's 0-10 buttons go along: a channel that shows none leaves them out.
        buttons=buttons_from_json(row.buttons),
        purpose=row.purpose,
        customer_id=row.customer_id,
        rep_id=row.rep_id,
        checkin_id=row.checkin_id,
    )
    row.checkin_id = None  # the new message carries the check-in now
    return True


def settle_checkin(now: datetime, checkin: CheckIn, row: Message) -> None:
    """Carry a message's final state to its check-in, if the check-in still waits for it."""
    if row.checkin_id is None or checkin.status != CheckInStatus.QUEUED:
        return
    if row.status in (MessageStatus.SENT, MessageStatus.UNCERTAIN):
        checkin.status, checkin.sent_at, checkin.channel = "sent", now, row.channel
        if row.status == MessageStatus.UNCERTAIN:
            checkin.error = f"uncertain: {row.error}"
    elif row.status in (MessageStatus.FAILED, MessageStatus.CANCELLED):
        checkin.status = "failed" if row.status == MessageStatus.FAILED else "suppressed"
        checkin.error = row.error
        checkin.reason = (
            row.error if row.status == MessageStatus.CANCELLED else f"send failed: {row.error}"
        )
        checkin.closed_at = now
