"""Step 3 of a pass: one reminder for an unanswered survey, then expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cadence.decisions import SURVEY_KINDS
from cadence.quiet_hours import is_quiet, quiet_hours_end, zone_for
from cadence.rules import CadenceRules
from messaging.channels.registry import CHANNELS, reach
from messaging.compose import TemplateBook, customer_context, score_buttons
from messaging.outbox import queue_message
from messaging.render import TemplateError
from models import CheckIn, Customer
from models.db import in_state
from models.states import CheckInStatus, Purpose
from settings import Settings


def send_reminders(
    session: Session,
    now: datetime,
    rules: CadenceRules,
    settings: Settings,
    book: TemplateBook,
    *,
    limit: int = 1000,
) -> int:
    """Queue one reminder per survey left unanswered for `reminder_days`; returns how many."""
    if rules.reminder_days <= 0:
        return 0
    rows = session.execute(
        select(CheckIn, Customer)
        .join(Customer, Customer.id == CheckIn.customer_id)
        .where(
            in_state(CheckIn.status, CheckInStatus.SENT),
            CheckIn.sent_at <= now - timedelta(days=rules.reminder_days),
            CheckIn.sent_at > now - timedelta(days=rules.expire_days),
            CheckIn.reminder_sent_at.is_(None),
            CheckIn.kind.in_(SURVEY_KINDS),
            # Skipped rows must not fill the batch and starve due reminders behind them:
            # opted-out customers never get one, night-time ones wait for `not_before`.
            Customer.opted_out_at.is_(None),
            CheckIn.not_before.is_(None) | (CheckIn.not_before <= now),
        )
        .order_by(CheckIn.sent_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=CheckIn)
    ).all()
    sent = 0
    for checkin, customer in rows:
        zone = zone_for(customer.timezone, settings.default_tz)
        if is_quiet(now, zone, rules):
            checkin.not_before = quiet_hours_end(now, zone, rules)
            wake = checkin.not_before.astimezone(zone)
            checkin.reason = (
                f"reminder waits for quiet hours to end ({wake:%Y-%m-%d %H:%M} {zone.key})"
            )
            continue
        if not _claim_reminder(session, checkin, now):
            continue  # another pass reminded them first
        # The channel the survey went out on, or the other one if that has gone since;
        # with neither, no reminder (and never a send to the address "None").
        preferred = checkin.channel if checkin.channel in CHANNELS else customer.channel
        found = reach(customer, preferred)
        channel, address = found if found is not None else (None, None)
        if channel is None or address is None:
            checkin.reason = "reminder not sent: no phone or Telegram chat to reach the customer"
            continue
        try:
            composed = book.compose(
                "reminder",
                customer.language,
                customer_context(customer, settings, channel),
            )
        except TemplateError as error:
            checkin.reason = f"reminder not sent: template error: {error}"
            checkin.reminder_sent_at = now
            continue
        queue_message(
            session,
            now=now,
            channel=channel,
            address=address,
            body=composed.body,
            purpose=Purpose.REMINDER,
            customer_id=customer.id,
            checkin_id=checkin.id,
            buttons=score_buttons(checkin.id),
            composed=composed,
        )
        checkin.reminder_sent_at, checkin.reason, checkin.not_before = now, None, None
        sent += 1
    return sent


def _claim_reminder(session: Session, checkin: CheckIn, now: datetime) -> bool:
    """Take the check-in's one reminder; False when another pass already took it.

    The row locks above do nothing on SQLite, where two passes (`run` and a
    `tick` from cron) read the same rows: the conditional UPDATE decides.
    """
    claimed = session.scalar(
        update(CheckIn)
        .where(CheckIn.id == checkin.id, CheckIn.reminder_sent_at.is_(None))
        .values(reminder_sent_at=now)
        .returning(CheckIn.id),
        execution_options={"synchronize_session": False},
    )
    return claimed is not None


def expire_unanswered(session: Session, now: datetime, rules: CadenceRules) -> int:
    """Close surveys nobody answered within `expire_days`; returns how many."""
    result = session.execute(
        update(CheckIn)
        .where(
            in_state(CheckIn.status, CheckInStatus.SENT),
            CheckIn.sent_at <= now - timedelta(days=rules.expire_days),
        )
        .values(status="expired", closed_at=now, reason="no answer")
        .returning(CheckIn.id),
        execution_options={"synchronize_session": False},
    )
    return len(result.all())
