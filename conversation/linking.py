"""Linking a Telegram chat to a customer: by the deep-link token, or by a shared phone number.

Plain functions on a session; the Telegram bot translates updates into calls
here. A successful link greets the customer by name (the `telegram_greeting`
template, sent at once through the outbox).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from messaging.compose import TemplateBook, customer_context
from messaging.outbox import queue_message
from messaging.render import TemplateError
from models import Customer
from models.states import Purpose
from settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkResult:
    """`outcome`: "linked", "unknown_token", "unknown_phone" or "ambiguous_phone"."""

    outcome: str
    customer_id: int | None = None
    opted_out: bool = False  # linked, but the customer had opted out: nothing was sent

    @property
    def linked(self) -> bool:
        return self.outcome == "linked"


def start_link(customer: Customer, bot_username: str | None) -> str | None:
    """The deep link that links the customer's chat (None until the bot's username is known)."""
    if not bot_username:
        return None
    return f"https://t.me/{bot_username}?start={customer.telegram_link_token}"


def link_by_token(
    session: Session, chat_id: int, token: str, now: datetime, settings: Settings
) -> LinkResult:
    """Link `chat_id` to the customer whose deep-link token this is, and greet them."""
    token = token.strip()
    customer = (
        session.scalar(select(Customer).where(Customer.telegram_link_token == token))
        if token
        else None
    )
    if customer is None:
        return LinkResult("unknown_token")
    return _link(session, customer, chat_id, now, settings)


def link_by_phone(
    session: Session, chat_id: int, phone: str, now: datetime, settings: Settings
) -> LinkResult:
    """Link `chat_id` to the one customer with this phone number, and greet them.

    The caller must make sure the number is the sender's own (Telegram's
    contact.user_id equals the sender), or anyone could claim anyone's chat.
    """
    e164 = normalise_phone(phone)
    if e164 is None:
        return LinkResult("unknown_phone")
    customers = list(session.scalars(select(Customer).where(Customer.phone == e164).limit(2)))
    if not customers:
        return LinkResult("unknown_phone")
    if len(customers) > 1:
        # Two customers share the number (a household): a token link says which one.
        return LinkResult("ambiguous_phone")
    return _link(session, customers[0], chat_id, now, settings)


def normalise_phone(text: str) -> str | None:
    """E.164 for a number as Telegram sends it ("48601234567", "+48 601 234 567"), or None."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return None
    try:
        number = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _link(
    session: Session, customer: Customer, chat_id: int, now: datetime, settings: Settings
) -> LinkResult:
    # One chat, one customer (a unique column): the chat moves to whoever proved it last.
    session.execute(
        update(Customer)
        .where(Customer.telegram_chat_id == chat_id, Customer.id != customer.id)
        .values(telegram_chat_id=None)
    )
    customer.telegram_chat_id = chat_id
    customer.telegram_unreachable_at = None
    # Linking the chat is the customer saying "reach me here".
    customer.channel = "telegram"
    if customer.opted_out_at is not None:
        return LinkResult("linked", customer.id, opted_out=True)
    greet(session, customer, now, settings)
    return LinkResult("linked", customer.id)


def greet(session: Session, customer: Customer, now: datetime, settings: Settings) -> None:
    """Queue the `telegram_greeting` to the customer's chat, to go at once."""
    context = customer_context(customer, settings, "telegram")
    try:
        composed = TemplateBook.load(session).compose(
            "telegram_greeting", customer.language, context
        )
    except TemplateError:
        log.exception("cannot greet customer %s on Telegram", customer.id)
        return
    queue_message(
        session,
        now=now,
        channel="telegram",
        address=str(customer.telegram_chat_id),
        body=composed.body,
        purpose=Purpose.TELEGRAM_GREETING,
        customer_id=customer.id,
    )
