"""The one door every inbound message comes through, whatever the channel.

Webhook handlers (Twilio, Telegram), the Telegram poller and the demo's phone
simulator translate what they received into an `Inbound` and call `receive`.
It stores the message (once: the provider id is unique), works out who sent
it, and hands it to the conversation (customers) or to the escalation
commands (reps). Replies are queued in the outbox, never sent from here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from cadence.rules import load_rules
from clock import as_utc
from conversation.replies import parse_reply
from conversation.survey import handle_customer_message
from conversation.turn import Turn
from escalation.commands import handle_rep_message, looks_like_rep_command
from messaging.channels import registry
from messaging.channels.base import Inbound
from messaging.compose import TemplateBook
from messaging.once import insert_once
from messaging.outbox import queue_message
from messaging.privacy import masked
from messaging.render import TemplateError
from models import LANGUAGES, CheckIn, Customer, Message, Rep
from models.states import CheckInStatus, Purpose
from settings import Settings

log = logging.getLogger(__name__)

# A stranger gets the polite "we couldn't match you" note at most this often.
UNKNOWN_SENDER_NOTE_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Receipt:
    """What `receive` did with a message."""

    duplicate: bool  # already processed: nothing changed
    # "duplicate", "scored", "comment", "already_answered", "stop", "start", "help",
    # "clarify", "forwarded", "unknown_sender" or "rep_command"
    action: str
    customer_id: int | None = None
    message_id: int | None = None
    detail: str = ""  # for "rep_command": what the escalation commands made of it


def receive(session: Session, now: datetime, inbound: Inbound, settings: Settings) -> Receipt:
    """Store and act on one inbound message, inside the caller's transaction.

    The same (channel, provider_id) twice is stored once and acted on once.
    """
    now = as_utc(now)
    inbound = within_limits(inbound)
    customer, rep = identify(session, inbound)
    message, created = insert_once(
        session,
        Message,
        {
            **stored_values(inbound, now),
            "customer_id": customer.id if customer else None,
            "rep_id": rep.id if rep else None,
            "processed_at": now,
        },
        unique={"channel": inbound.channel, "provider_id": inbound.provider_id},
    )
    if not created:
        return Receipt(True, "duplicate", message.customer_id, message.id)
    return hand_on(session, now, inbound, message, customer, rep, settings)


def within_limits(inbound: Inbound) -> Inbound:
    """The columns' limits; a provider never sends more, a buggy caller must not crash us."""
    return replace(inbound, address=inbound.address[:64], provider_id=inbound.provider_id[:100])


def stored_values(inbound: Inbound, now: datetime) -> dict[str, Any]:
    """The `messages` row of an inbound message, before anyone has acted on it."""
    return {
        "direction": "in",
        "channel": inbound.channel,
        "address": inbound.address,
        "body": _body(inbound),
        "provider_id": inbound.provider_id,
        "status": "received",
        "created_at": now,
    }


def identify(session: Session, inbound: Inbound) -> tuple[Customer | None, Rep | None]:
    """Who wrote: (customer, None), (None, rep) or (None, None) for a stranger."""
    customer = find_customer(session, inbound)
    rep = None
    if customer is None or looks_like_rep_command(inbound.text):
        rep = find_rep(session, inbound)
    if rep is not None:
        return None, rep  # a rep who is also a customer speaks as a rep when commanding
    return customer, None


def hand_on(
    session: Session,
    now: datetime,
    inbound: Inbound,
    message: Message,
    customer: Customer | None,
    rep: Rep | None,
    settings: Settings,
) -> Receipt:
    """Act on a stored message: the rep's command, the stranger's note or the customer's turn."""
    if rep is not None:
        detail = handle_rep_message(session, now, rep, inbound, settings)
        return Receipt(False, "rep_command", None, message.id, detail)
    if customer is None:
        answer_unknown_sender(session, now, inbound, settings)
        return Receipt(False, "unknown_sender", None, message.id)
    # One customer's messages are handled one at a time (two STOPs, one confirmation).
    session.refresh(customer, with_for_update=True)
    registry.heard_from(inbound.channel, customer)  # e.g. they wrote to the bot: it is not blocked
    turn = Turn(
        session,
        now,
        customer,
        inbound,
        message,
        settings,
        load_rules(session),
        TemplateBook.load(session),
    )
    return Receipt(False, handle_customer_message(turn), customer.id, message.id)


def _body(inbound: Inbound) -> str:
    if inbound.text or inbound.button_score is None:
        return inbound.text.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    return str(inbound.button_score[1])  # a bare button press reads as the score it gave


def find_customer(session: Session, inbound: Inbound) -> Customer | None:
    """The customer behind the address, by the column the channel's registry entry names."""
    # A household may share one number: the one we are waiting to hear from comes first.
    waiting = (
        select(CheckIn.id)
        .where(CheckIn.customer_id == Customer.id, CheckIn.status == CheckInStatus.SENT)
        .exists()
    )
    for column, value in registry.senders_on(inbound.channel, inbound.address):
        customer = session.scalar(
            select(Customer)
            .where(getattr(Customer, column) == value)
            .order_by(case((waiting, 0), else_=1), Customer.id)
            .limit(1)
        )
        if customer is not None:
            return customer
    return None


def find_rep(session: Session, inbound: Inbound) -> Rep | None:
    """The rep (or manager) behind the address, if any."""
    for column, value in registry.senders_on(inbound.channel, inbound.address):
        rep = session.scalar(
            select(Rep).where(getattr(Rep, column) == value).order_by(Rep.id).limit(1)
        )
        if rep is not None:
            return rep
    return None


def answer_unknown_sender(
    session: Session, now: datetime, inbound: Inbound, settings: Settings
) -> None:
    """A polite note, at most once a day per address; never to someone who asked us to stop."""
    log.info("message from unknown %s sender %s stored", inbound.channel, masked(inbound.address))
    if not inbound.address or parse_reply(inbound.text).keyword == "stop":
        return
    recent = session.scalar(
        select(Message.id)
        .where(
            Message.direction == "out",
            Message.purpose == Purpose.UNKNOWN_SENDER,
            Message.channel == inbound.channel,
            Message.address == inbound.address,
            Message.created_at >= now - UNKNOWN_SENDER_NOTE_EVERY,
        )
        .limit(1)
    )
    if recent is not None:
        return
    name = inbound.sender_name.strip()
    context = {
        "first_name": name.split()[0] if name else "",
        "name": name,
        "business_name": settings.business_name,
        "channel": inbound.channel,
        "product": None,
    }
    language = inbound.sender_language.lower().replace("_", "-").split("-")[0]
    try:
        composed = TemplateBook.load(session).compose(
            "unknown_sender", language if language in LANGUAGES else "en", context
        )
    except TemplateError:
        log.exception("cannot answer unknown sender %s", masked(inbound.address))
        return
    queue_message(
        session,
        now=now,
        channel=inbound.channel,
        address=inbound.address,
        body=composed.body,
        purpose=Purpose.UNKNOWN_SENDER,
    )
