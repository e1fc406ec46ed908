"""Rep and manager alerts: who hears about an escalation, on which channel, and what they read.

An alert is queued in the outbox inside the caller's transaction, so it exists
exactly when the escalation does; its commit wakes the sender's interactive lane,
which does not wait behind a bulk of surveys. Each recipient reads their own language (the rep's,
else the business's: escalation.replies.language_of); the customer's language is named in the
alert, in the recipient's words, so the rep knows what to speak.
Outside the recipient's working hours (cadence/team.py; around the clock unless
set) an alert waits in the outbox for the start of their day, unless the business
marks detractor alerts as urgent.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from babel import Locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from cadence.team import Team, load_team
from escalation import waiting
from escalation.replies import button_label, language_of
from escalation.trail import record
from messaging.channels import registry
from messaging.channels.base import Button, Buttons
from messaging.compose import TemplateBook
from messaging.outbox import queue_message
from messaging.render import TemplateError
from messaging.rep_verbs import verb_context
from models import Customer, Escalation, Message, Rep, Response
from models.states import EscalationKind, EscalationStatus, Purpose
from settings import Settings

log = logging.getLogger(__name__)

RECENT_MESSAGES = 4
RECENT_CHARS = 120
# A rep alert carries the customer's words, up to this much, so it fits one SMS (1,600 characters).
QUOTED_CHARS = 700
# Outbound messages the customer never saw do not belong in "recent messages".
UNSEEN = ("queued", "sending", "cancelled", "failed")


@dataclass(frozen=True)
class Address:
    """Where a rep is reached: a channel and the address there."""

    channel: str
    to: str


def reach(rep: Rep | None) -> Address | None:
    """Where the rep is reached (messaging/channels/registry.py knows each channel's address)."""
    # Where they can press buttons when they can; else anywhere that works.
    found = registry.reach(rep, None, buttons_first=True) if rep is not None else None
    return Address(*found) if found is not None else None


def manager_for(session: Session, rep: Rep | None) -> Rep | None:
    """Who is above `rep`: their own manager, else the first other manager, else nobody."""
    if rep is not None and rep.manager_id is not None:
        return session.get(Rep, rep.manager_id)
    query = select(Rep).where(Rep.role == "manager").order_by(Rep.id).limit(1)
    if rep is not None:
        query = query.where(Rep.id != rep.id)
    return session.scalar(query)


def alert_new_escalation(
    session: Session, now: datetime, escalation: Escalation, settings: Settings, book: TemplateBook
) -> Message | None:
    """Queue the first alert for a just-opened escalation and mark it alerted.

    It goes to the assigned rep on their own channel; a rep we cannot reach at
    all is skipped for their manager, and the trail says why.
    """
    rep = session.get(Rep, escalation.rep_id) if escalation.rep_id is not None else None
    recipient, why = rep, ""
    if reach(rep) is None:
        manager = manager_for(session, rep)
        if rep is None:
            why = "nobody is assigned"
        else:
            why = f"{rep.name} has no phone and no Telegram chat"
            if rep.email and rep.email_unreachable_at is not None:
                why += f", and their email bounced on {rep.email_unreachable_at:%Y-%m-%d}"
        if reach(manager) is None:
            record(
                session, now, escalation.id, "not_alerted", f"{why}, and no manager can be reached"
            )
            log.warning("escalation %s: nobody to alert (%s)", escalation.id, why)
            return None
        recipient = manager
    assert recipient is not None
    key = (
        Purpose.REP_ALERT
        if escalation.kind == EscalationKind.DETRACTOR
        else Purpose.REP_NEEDS_ANSWER
    )
    message = queue_alert(session, now, escalation, recipient, key, settings, book)
    if message is None:
        return None
    escalation.alerted_at = now
    if why:  # the usual alert is on record as `alerted_at` and the message itself
        record(
            session,
            now,
            escalation.id,
            "alert_rerouted",
            f"{key} to {recipient.name} by {message.channel}: {why}",
        )
    return message


def relay_to_rep(
    session: Session,
    now: datetime,
    escalation: Escalation,
    text: str,
    settings: Settings,
    book: TemplateBook,
) -> Message | None:
    """Pass what the customer wrote later (the answer to "what went wrong?", another message)
    to whoever has the unresolved escalation: the rep, or their manager when the rep
    cannot be reached (as for the first alert).

    For callers that add a "comment" or "customer_message" event to an escalation.
    """
    if escalation.status == EscalationStatus.RESOLVED:
        return None
    rep = session.get(Rep, escalation.rep_id) if escalation.rep_id is not None else None
    recipient = rep if reach(rep) is not None else manager_for(session, rep)
    if recipient is None:
        return None
    return queue_alert(
        session, now, escalation, recipient, Purpose.REP_NEEDS_ANSWER, settings, book, body=text
    )


def tell_score_change(
    session: Session,
    now: datetime,
    escalation: Escalation,
    before: int,
    after: int,
    settings: Settings,
    book: TemplateBook,
) -> list[Message]:
    """Tell whoever was alerted that the customer changed their score (rep_score_changed).

    Called after the change: when it closed the escalation (out of detractors) the message
    says so and asks nothing (no command, no buttons); else it gives the new score. It goes
    to the rep (their manager when the rep cannot be reached, as for the first alert), and
    to the manager the SLA sent it up to, if any. Nobody is told of an escalation that was
    never alerted. Whoever was sent nothing about it yet (their alert still waits for their
    working day) reads no change: what waits is withdrawn, and unless the change closed the
    escalation one fresh alert with the score as it is now waits in its place.
    """
    if escalation.alerted_at is None and escalation.escalated_to_manager_at is None:
        return []
    rep = session.get(Rep, escalation.rep_id) if escalation.rep_id is not None else None
    recipients = [rep if reach(rep) is not None else manager_for(session, rep)]
    if escalation.escalated_to_manager_at is not None and escalation.manager_id is not None:
        recipients.append(session.get(Rep, escalation.manager_id))
    closed = escalation.status == EscalationStatus.RESOLVED
    unread = waiting.settle_unread(session, now, escalation, recipients, closed=closed, after=after)
    told: list[Message] = []
    for recipient in dict.fromkeys(r for r in recipients if r is not None):
        if recipient.id not in unread:
            message = queue_alert(
                session,
                now,
                escalation,
                recipient,
                Purpose.REP_SCORE_CHANGED,
                settings,
                book,
                extra={"before": before, "after": after, "closed": closed},
                buttons=not closed,
            )
        elif (fresh := unread[recipient.id]) is not None:
            message = queue_alert(session, now, escalation, recipient, fresh, settings, book)
        else:
            continue
        if message is not None:
            told.append(message)
    return told


def queue_alert(
    session: Session,
    now: datetime,
    escalation: Escalation,
    recipient: Rep,
    key: str,
    settings: Settings,
    book: TemplateBook,
    *,
    body: str | None = None,
    extra: dict[str, Any] | None = None,
    buttons: bool = True,
) -> Message | None:
    """Queue alert `key` about `escalation` for `recipient`, with buttons on Telegram
    (unless `buttons` is False: nothing is left to press on a closed escalation).

    `body` is what the customer wrote, for rep_needs_answer (default: the message
    that opened the escalation); `extra` adds to the template's context. None when the
    recipient cannot be reached or the template is broken (logged).
    """
    address = reach(recipient)
    if address is None:
        return None
    team = load_team(session, settings.default_tz)
    language = language_of(recipient, settings)
    context = alert_context(
        session, now, escalation, recipient, key, address.channel, language, team
    )
    if body is not None:
        context["body"] = quoted(body)
    context.update(extra or {})
    # A rep on a channel that cannot take "ACK 12" back (email) gets the admin page instead.
    context["can_reply_commands"] = registry.takes_commands(address.channel)
    context["escalation_url"] = f"{settings.public_url}/admin/escalations/{escalation.id}"
    try:
        composed = book.compose(key, language, context)
    except TemplateError:
        log.exception("cannot render %s for escalation %s", key, escalation.id)
        record(session, now, escalation.id, "alert_failed", f"template {key} could not be rendered")
        return None
    customer = session.get_one(Customer, escalation.customer_id)
    pressed = (
        alert_buttons(escalation, customer, settings, language=language, book=book)
        if buttons and registry.shows_buttons(address.channel)
        else None
    )
    send_at = alert_time(team, now, recipient, key)
    if send_at > now:
        record(
            session,
            now,
            escalation.id,
            "alert_waits",
            f"{key} to {recipient.name} waits for their working hours, until "
            f"{send_at.astimezone(team.zone):%Y-%m-%d %H:%M %Z}",
        )
    return queue_message(
        session,
        now=now,
        channel=address.channel,
        address=address.to,
        body=composed.body,
        purpose=key,
        # Not the customer's message: it must not show in their history nor be
        # cancelled by their opt-out.
        rep_id=recipient.id,
        buttons=pressed,
        composed=composed,
        not_before=send_at,
    )


def alert_time(team: Team, now: datetime, recipient: Rep, key: str) -> datetime:
    """When the alert may go: now, or when the recipient's working day starts."""
    if team.urgent_detractor_alerts and key in (Purpose.REP_ALERT, Purpose.MANAGER_ALERT):
        return now
    return team.next_working(now, recipient)


def alert_context(
    session: Session,
    now: datetime,
    escalation: Escalation,
    recipient: Rep,
    key: str,
    channel: str,
    language: str = "en",
    team: Team | None = None,
) -> dict[str, Any]:
    """Everything rep_alert, manager_alert and rep_needs_answer may show, for a `language` reader."""
    customer = session.get_one(Customer, escalation.customer_id)
    response = (
        session.get(Response, escalation.response_id)
        if escalation.response_id is not None
        else None
    )
    message = (
        session.get(Message, escalation.message_id) if escalation.message_id is not None else None
    )
    rep = session.get(Rep, escalation.rep_id) if escalation.rep_id is not None else None
    purchase = response.checkin.purchase if response is not None else None
    return {
        "first_name": recipient.name.split()[0] if recipient.name.strip() else recipient.name,
        "name": recipient.name,
        "customer_name": customer.name,
        "customer_phone": customer.phone,
        "language": language_name(customer.language, language),
        "product": purchase.product if purchase is not None else None,
        "score": response.score if response is not None else None,
        "comment": quoted(
            (response.comment if response is not None else message.body if message else "") or ""
        ),
        "body": quoted(message.body if message is not None else ""),
        "recent": recent_messages(session, customer),
        # rep_alert: the time left to act; manager_alert: the SLA that was missed.
        "sla_minutes": sla_length_minutes(escalation, team)
        if key == Purpose.MANAGER_ALERT
        else minutes_left(escalation, now, team),
        "escalation_id": escalation.id,
        "channel_for_commands": channel,
        "rep_name": rep.name if rep is not None else None,
        **verb_context(language),  # ack, resolve: the commands in the reader's language
    }


def minutes_left(escalation: Escalation, now: datetime, team: Team | None = None) -> int:
    """Whole minutes (of working time, with `team`) until the SLA runs out (rounded up, ≥ 0)."""
    left = team.time_left(now, escalation.sla_due_at) if team else escalation.sla_due_at - now
    return max(0, math.ceil(left.total_seconds() / 60))


def sla_length_minutes(escalation: Escalation, team: Team | None = None) -> int:
    """How long the SLA was, in (working) minutes."""
    length = (
        team.time_left(escalation.created_at, escalation.sla_due_at)
        if team
        else escalation.sla_due_at - escalation.created_at
    )
    return round(length.total_seconds() / 60)


def language_name(code: str, reader: str = "en") -> str:
    """ "pl" -> "Polish" (or "polski" for a Polish reader): which language to call the customer in."""
    return Locale.parse(reader).languages.get(code, code)


def quoted(text: str, limit: int = QUOTED_CHARS) -> str:
    """The customer's words, shortened so the alert fits one message; the page has them whole."""
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def recent_messages(session: Session, customer: Customer) -> list[dict[str, Any]]:
    """The customer's last few messages in and out, oldest first, each cut to one short line.

    Each is {"ours": sent by Aftercare, "who": the customer's first name, "text"}; the
    template names the speaker in the reader's language.
    """
    rows = session.execute(
        select(Message.direction, Message.body)
        .where(Message.customer_id == customer.id, Message.status.not_in(UNSEEN))
        # By time, not id: an imported history can be stored after newer messages.
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(RECENT_MESSAGES)
    ).all()
    lines = []
    for direction, body in reversed(rows):
        text = quoted(" ".join(body.split()), RECENT_CHARS)
        lines.append({"ours": direction == "out", "who": customer.first_name, "text": text})
    return lines


def alert_buttons(
    escalation: Escalation,
    customer: Customer,
    settings: Settings,
    *,
    language: str = "en",
    book: TemplateBook | None = None,
) -> Buttons:
    """Acknowledge (while open) and Resolve, handled by escalation.commands; the customer's page.

    The labels are templates/<language>/rep_buttons.txt (or an admin's version in `book`).
    """
    book = book if book is not None else TemplateBook()

    def label(button: str) -> str:
        return button_label(book, button, language)

    first = [Button(label("resolve"), data=f"resolve:{escalation.id}")]
    if escalation.status in (None, "open"):  # None: not flushed yet, so open
        first.insert(0, Button(label("ack"), data=f"ack:{escalation.id}"))
    rows: Buttons = [first]
    # Telegram refuses a whole message over a link button it does not like (plain
    # http, localhost): without a public https address the alert goes without it.
    if settings.public_url.startswith("https://"):
        link = f"{settings.public_url}/admin/customers/{quote(customer.external_id, safe='')}"
        rows.append([Button(label("customer"), url=link)])
    return rows
