"""Delivery receipts: what a provider says became of a message we sent, applied to it.

A receipt can overtake the outbox: Twilio may report "delivered" before the
outbox has written down the message's SID (before it has even read Twilio's
answer to the send). Such a receipt is kept (`keep_early`) and applied, in the
same transaction, when the outbox records that id (`apply_early`); one whose
id is never recorded is tidied after a day.

Neither side may miss the other: on PostgreSQL keeping a receipt takes a lock
that recording ids shares, so one of them always sees what the other wrote
(on SQLite, writers take turns for the file anyway).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.orm import Session

from events import EventType, record_event
from events.payloads import message_data
from messaging.channels.base import Receipt
from messaging.once import insert_once
from models import CheckIn, EarlyReceipt, Message
from models.db import one_of
from models.states import REPORTS_ON_CHECKIN, CheckInStatus, MessageStatus, Purpose

# A later report never moves a message back (callbacks arrive out of order).
_RANK: dict[str, int] = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.UNDELIVERED: 3,
    MessageStatus.FAILED: 3,
}
# A receipt whose message id was never recorded (the send was lost) is forgotten after this.
EARLY_KEPT_FOR = timedelta(days=1)
# Any constant works; it only has to be the same in every Aftercare process.
_EARLY_LOCK_KEY = 0x41667252  # "AfrR"


def apply_receipt(session: Session, now: datetime, message: Message, receipt: Receipt) -> str:
    """Apply `receipt` to `message` (locked by the caller); "recorded" or "unchanged".

    A survey that was undelivered or failed marks its check-in failed, with the
    provider's reason, so an admin sees why the customer never answered.
    """
    current = _RANK.get(message.status)
    if receipt.status not in _RANK or current is None or current >= _RANK[receipt.status]:
        return "unchanged"  # a repeat, a late "sent" after "delivered", a message given up on
    message.status = receipt.status
    if receipt.status == MessageStatus.DELIVERED:
        message.delivered_at = now
    elif receipt.status in (MessageStatus.UNDELIVERED, MessageStatus.FAILED):
        message.error_code, message.error = receipt.error_code, receipt.error or receipt.status
        _mark_checkin(session, now, message)
        # Accepted by the provider, then lost on the way (a carrier's refusal, a dead number).
        record_event(session, now, EventType.MESSAGE_FAILED, lambda: message_data(session, message))
    return "recorded"


def keep_early(session: Session, now: datetime, receipt: Receipt) -> None:
    """Keep a receipt for an id no message has yet (once, however often it comes)."""
    if session.get_bind().dialect.name == "postgresql":
        # Until commit: an outbox recording ids meanwhile waits, then finds this receipt.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _EARLY_LOCK_KEY})
    session.execute(delete(EarlyReceipt).where(EarlyReceipt.received_at < now - EARLY_KEPT_FOR))
    identity = {
        "channel": receipt.channel,
        "provider_id": receipt.provider_id,
        "status": receipt.status,
    }
    insert_once(
        session,
        EarlyReceipt,
        {**identity, "error_code": receipt.error_code, "error": receipt.error, "received_at": now},
        unique=identity,
    )


def apply_early(session: Session, recorded: Iterable[tuple[str, str]]) -> int:
    """Apply the kept receipts for the (channel, provider id)s just recorded, then forget them.

    Call it in the transaction that records the ids; returns how many receipts it applied.
    """
    keys = list(recorded)
    if not keys:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        # Shared: recorders never wait for each other, only for a receipt being kept.
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": _EARLY_LOCK_KEY})
    # By provider id alone (one array parameter however many), then by channel here.
    wanted = set(keys)
    early = [
        row
        for row in session.scalars(
            select(EarlyReceipt)
            .where(one_of(session, EarlyReceipt.provider_id, {p for _, p in keys}))
            .order_by(EarlyReceipt.id)
        )
        if (row.channel, row.provider_id) in wanted
    ]
    if not early:
        return 0
    keys = sorted({(row.channel, row.provider_id) for row in early})
    messages = {
        (m.channel, m.provider_id): m
        for m in session.scalars(
            select(Message)
            .where(
                tuple_(Message.channel, Message.provider_id).in_(keys), Message.direction == "out"
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    applied = []
    for row in early:
        message = messages.get((row.channel, row.provider_id))
        if message is None:
            continue  # not written after all (reconciliation took the claim over): kept for it
        receipt = Receipt(row.channel, row.provider_id, row.status, row.error_code, row.error)
        apply_receipt(session, row.received_at, message, receipt)
        applied.append(row.id)
    if applied:
        session.execute(delete(EarlyReceipt).where(EarlyReceipt.id.in_(applied)))
    return len(applied)


def _mark_checkin(session: Session, now: datetime, message: Message) -> None:
    if message.checkin_id is None or message.purpose not in REPORTS_ON_CHECKIN:
        return
    checkin = session.get(CheckIn, message.checkin_id, with_for_update=True, populate_existing=True)
    if checkin is None or checkin.status != CheckInStatus.SENT:
        return  # answered or closed meanwhile: the customer got through some other way
    if message.purpose == Purpose.REMINDER:
        checkin.error = f"reminder not delivered: {message.error}"
        return
    checkin.status, checkin.error, checkin.closed_at = CheckInStatus.FAILED, message.error, now
    checkin.reason = f"not delivered: {message.error}"
