"""The one outgoing path: queue a message in the database, then drain the queue.

Queuing happens inside the caller's transaction, so a message exists exactly
when the decision to send it was committed. Draining claims a batch (row
locks with SKIP LOCKED on PostgreSQL; SQLite serialises writers), sends each
message through its transport, and records the outcome. Several processes may
drain the same queue; a message is claimed by one of them only.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from messaging.channels import Transports
from messaging.channels.base import Buttons, SendError, buttons_from_json, buttons_to_json
from messaging.compose import Composed, TemplateBook
from messaging.render import TemplateError
from models import CheckIn, Customer, Message, Rep
from scheduler.quiet_hours import quiet_hours_end, zone_for
from scheduler.rules import load_rules
from settings import get_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# A claim older than this means the process died mid-send: the provider may or may
# not have the message, so it becomes "uncertain" rather than being sent again.
STALE_CLAIM = timedelta(minutes=10)
# Messages a customer who opted out may still receive (the confirmation itself, HELP).
ALLOWED_AFTER_OPT_OUT = frozenset({"opt_out_confirmation", "help"})
# Outcomes are written after this many sends or this many seconds, whichever comes first.
RECORD_EVERY = 100
RECORD_AFTER = 0.5
# Messages the bot starts: they keep to the customer's quiet hours even when retried.
# Direct answers (follow-ups, confirmations) go at once, as DESIGN.md says.
BOT_STARTED = frozenset({"survey", "reminder", "delay_notice"})
# The outbox's own purposes whose check-in it settles (reminders belong to a sent check-in).
CHECKIN_PURPOSES = ("survey", "delay_notice")


def queue_message(
    session: Session,
    *,
    now: datetime,
    channel: str,
    address: str,
    body: str,
    purpose: str,
    customer_id: int | None = None,
    rep_id: int | None = None,
    checkin_id: int | None = None,
    buttons: Buttons | None = None,
    composed: Composed | None = None,
) -> Message:
    """Add an outgoing message to the queue (committed with the caller's transaction).

    With `composed`, the message remembers its template, so it can be rendered
    again for another channel if this one turns out to be dead.
    """
    message = Message(
        direction="out",
        channel=channel,
        address=address,
        body=body,
        purpose=purpose,
        customer_id=customer_id,
        rep_id=rep_id,
        checkin_id=checkin_id,
        buttons=buttons_to_json(buttons),
        template=_template_json(composed),
        status="queued",
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    return message


def _template_json(composed: Composed | None) -> dict[str, Any] | None:
    if composed is None:
        return None
    # Through JSON once, so what is stored is exactly what will come back.
    context = json.loads(json.dumps(composed.context, default=str))
    return {"key": composed.key, "language": composed.language, "context": context}


def render_for(session: Session, row: Message, channel: str) -> str:
    """The message's text as its template renders it for `channel` (its body when it has none)."""
    if not row.template:
        return row.body
    context = {**row.template["context"], "channel": channel}
    if "channel_for_commands" in context:
        context["channel_for_commands"] = channel
    try:
        return (
            TemplateBook.load(session)
            .compose(row.template["key"], row.template["language"], context)
            .body
        )
    except TemplateError:
        log.exception(
            "cannot render message %s again for %s; sending it as it was", row.id, channel
        )
        return row.body


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class DrainReport:
    outcomes: Counter[str] = field(default_factory=Counter)

    def __getitem__(self, key: str) -> int:
        return self.outcomes[key]

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


@dataclass
class _Claimed:
    id: int
    channel: str
    address: str
    body: str
    buttons: Any
    customer_id: int | None
    checkin_id: int | None
    purpose: str
    attempts: int


def drain(
    factory: sessionmaker[Session],
    now: datetime,
    transports: Transports,
    *,
    batch_size: int = 200,
    max_batches: int | None = None,
    default_tz: str | None = None,
) -> DrainReport:
    """Send every queued message whose time has come; return what happened to them.

    `default_tz` is the zone of customers who have none (AFTERCARE_DEFAULT_TZ when omitted).
    """
    report = DrainReport()
    zone_name = default_tz or get_settings().default_tz
    worker = secrets.token_hex(8)
    with factory.begin() as session:
        _mark_stale_claims(session, now)
    batches = 0
    while max_batches is None or batches < max_batches:
        claimed = _claim(factory, now, worker, batch_size)
        if not claimed:
            break
        batches += 1
        _send_batch(factory, now, transports, claimed, report, zone_name)
    return report


def _mark_stale_claims(session: Session, now: datetime) -> None:
    stale = session.scalars(
        select(Message)
        .where(Message.status == "sending", Message.next_attempt_at < now - STALE_CLAIM)
        .with_for_update(skip_locked=True)
    ).all()
    for row in stale:
        row.status = "uncertain"
        row.error = "the sending process stopped before the provider answered"
        if row.checkin_id is not None and row.purpose in CHECKIN_PURPOSES:
            # The customer may have it: the check-in must be "sent", or their reply is not
            # scored and it is never reminded nor expired. It went out when it was claimed.
            checkin = session.get_one(CheckIn, row.checkin_id)
            _update_checkin(row.next_attempt_at or now, checkin, row)


def _claim(
    factory: sessionmaker[Session], now: datetime, worker: str, limit: int
) -> list[_Claimed]:
    due = (
        select(Message.id)
        .where(Message.status == "queued", Message.next_attempt_at <= now)
        .order_by(Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claim = (
        update(Message)
        .where(Message.id.in_(due.scalar_subquery()), Message.status == "queued")
        .values(
            status="sending", claimed_by=worker, attempts=Message.attempts + 1, next_attempt_at=now
        )
        .returning(
            Message.id,
            Message.channel,
            Message.address,
            Message.body,
            Message.buttons,
            Message.customer_id,
            Message.checkin_id,
            Message.purpose,
            Message.attempts,
        )
    )
    with factory.begin() as session:
        rows = session.execute(claim, execution_options={"synchronize_session": False}).all()
    return sorted((_Claimed(*row) for row in rows), key=lambda m: m.id)


def _send_batch(
    factory: sessionmaker[Session],
    now: datetime,
    transports: Transports,
    claimed: list[_Claimed],
    report: DrainReport,
    default_tz: str,
) -> None:
    """Send a claimed batch, recording outcomes every few messages or fractions of a second.

    Recording often keeps a provider's delivery callback from arriving before
    we know the message id, and lets a STOP that arrives mid-batch stop the
    rest of it; recording in chunks keeps the console path fast.
    """
    outcomes: list[tuple[_Claimed, str, dict[str, Any]]] = []
    opted_out = _opted_out(factory, claimed)
    last_record = time.monotonic()
    for index, message in enumerate(claimed):
        if message.customer_id in opted_out and message.purpose not in ALLOWED_AFTER_OPT_OUT:
            outcomes.append((message, "cancelled", {"error": "customer opted out"}))
        else:
            outcomes.append(_send_one(transports, message, now))
        if len(outcomes) >= RECORD_EVERY or time.monotonic() - last_record > RECORD_AFTER:
            _record_outcomes(factory, now, outcomes, report, default_tz)
            outcomes = []
            last_record = time.monotonic()
            opted_out = _opted_out(factory, claimed[index + 1 :])
    _record_outcomes(factory, now, outcomes, report, default_tz)


def _opted_out(factory: sessionmaker[Session], claimed: list[_Claimed]) -> set[int]:
    customer_ids = {m.customer_id for m in claimed if m.customer_id is not None}
    if not customer_ids:
        return set()
    with factory() as session:
        return set(
            session.scalars(
                select(Customer.id).where(
                    Customer.id.in_(customer_ids), Customer.opted_out_at.is_not(None)
                )
            )
        )


def _record_outcomes(
    factory: sessionmaker[Session],
    now: datetime,
    outcomes: list[tuple[_Claimed, str, dict[str, Any]]],
    report: DrainReport,
    default_tz: str,
) -> None:
    if not outcomes:
        return
    with factory.begin() as session:
        _keep_retries_out_of_the_night(session, outcomes, default_tz)
        # Load the chunk's rows once; recording then touches no row twice.
        ids = [claimed.id for claimed, _, _ in outcomes]
        rows = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(ids)))}
        checkin_ids = [c.checkin_id for c, _, _ in outcomes if c.checkin_id is not None]
        checkins = (
            {c.id: c for c in session.scalars(select(CheckIn).where(CheckIn.id.in_(checkin_ids)))}
            if checkin_ids
            else {}
        )
        # One flush at commit (batched UPDATEs) instead of one per row.
        with session.no_autoflush:
            for message, outcome, values in outcomes:
                report.outcomes[outcome] += 1
                _record(session, now, rows[message.id], message, outcome, values, checkins)


def _keep_retries_out_of_the_night(
    session: Session, outcomes: list[tuple[_Claimed, str, dict[str, Any]]], default_tz: str
) -> None:
    """Move a bot-started message's retry out of the customer's quiet hours.

    Dispatch checked the hours when it queued the message; a backoff or a provider's
    Retry-After can still carry it past 20:00, and only SMS has a validity period.
    """
    retried = [
        (message.customer_id, values)
        for message, outcome, values in outcomes
        if outcome == "retry" and message.purpose in BOT_STARTED and message.customer_id
    ]
    if not retried:
        return
    zones = dict(
        session.execute(
            select(Customer.id, Customer.timezone).where(
                Customer.id.in_({customer_id for customer_id, _ in retried})
            )
        ).all()
    )
    rules = load_rules(session)
    for customer_id, values in retried:
        zone = zone_for(zones.get(customer_id or 0), default_tz)
        values["next_attempt_at"] = quiet_hours_end(values["next_attempt_at"], zone, rules)


def _send_one(
    transports: Transports, message: _Claimed, now: datetime
) -> tuple[_Claimed, str, dict[str, Any]]:
    transport = transports.get(message.channel)
    try:
        result = transport.send(message.address, message.body, buttons_from_json(message.buttons))
    except SendError as error:
        values: dict[str, Any] = {"error": str(error), "error_code": error.code}
        if error.uncertain:
            return message, "uncertain", values
        if error.unreachable:
            return message, "unreachable", values
        if error.permanent or message.attempts >= MAX_ATTEMPTS:
            return message, "failed", values
        pause = (
            timedelta(seconds=error.retry_after) if error.retry_after else backoff(message.attempts)
        )
        values["next_attempt_at"] = now + pause
        return message, "retry", values
    except Exception as error:  # a bug in a transport must not lose the message
        log.exception("transport %s crashed sending message %s", message.channel, message.id)
        return (
            message,
            "retry",
            {"error": repr(error), "next_attempt_at": now + backoff(message.attempts)},
        )
    return message, "sent", {"provider_id": result.provider_id}


def _record(
    session: Session,
    now: datetime,
    row: Message,
    message: _Claimed,
    outcome: str,
    values: dict[str, Any],
    checkins: dict[int, CheckIn],
) -> None:
    row.error = values.get("error")
    row.error_code = values.get("error_code")
    if outcome == "sent":
        row.status, row.provider_id, row.sent_at, row.error = (
            "sent",
            values["provider_id"],
            now,
            None,
        )
    elif outcome == "retry" and _withdrawn(message, checkins):
        # A STOP arrived while this attempt was in flight: it cancelled what was queued,
        # not this one. Queuing it again would let a later START send it after all.
        row.status = "cancelled"
    elif outcome == "retry":
        row.status, row.next_attempt_at = "queued", values["next_attempt_at"]
    elif outcome == "unreachable":
        row.status = "failed"
        _reroute_unreachable(session, now, row)
    else:
        row.status = outcome  # failed, uncertain, cancelled
    if message.checkin_id is not None and message.purpose in CHECKIN_PURPOSES:
        _update_checkin(now, checkins[message.checkin_id], row)


def _withdrawn(message: _Claimed, checkins: dict[int, CheckIn]) -> bool:
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


def _update_checkin(now: datetime, checkin: CheckIn, row: Message) -> None:
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
