"""What a survey email's links do: a score, a comment, an unsubscribe, through the usual doors.

A score link's click is a button press on the email channel: it goes through the
inbound door (conversation.inbound.receive) exactly as a Telegram keyboard tap, so
the Response (one per check-in), the follow-up and the escalation are the ones any
reply gets. The comment box is the customer's answer to the follow-up question, as
if they had replied to it. Unsubscribing is STOP from outside a conversation
(ConsentSource.EMAIL). Plain functions of a session and `now`; the web layer
(web/email_pages.py) verifies the signed token first and only translates.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversation.inbound import Inbound, receive
from conversation.optout import record_opt_out
from models import SURVEY_KINDS, CheckIn, Customer, Response
from models.states import CheckInStatus, ConsentSource
from settings import Settings

CHANNEL = "email"  # the channel these links came by (messaging/channels/email.py)
COMMENT_LIMIT = 2000  # characters kept from the comment box


@dataclass(frozen=True)
class Clicked:
    """What opening a score link found: "scored", "expired" or "invalid", and for whom."""

    state: str
    customer: Customer | None = None
    response: Response | None = None


def open_checkin(session: Session, checkin_id: int) -> Clicked:
    """The check-in a verified token names, if its survey can still be answered."""
    checkin = session.get(CheckIn, checkin_id)
    if checkin is None or checkin.kind not in SURVEY_KINDS:
        return Clicked("invalid")
    customer = session.get_one(Customer, checkin.customer_id)
    if checkin.status not in (CheckInStatus.SENT, CheckInStatus.ANSWERED):
        return Clicked("expired", customer)  # expired (or never sent): nothing changes
    return Clicked("open", customer, _response(session, checkin_id))


def score(
    session: Session, now: datetime, checkin_id: int, value: int, settings: Settings
) -> Clicked:
    """Record `value` for the check-in as a button press on the email channel.

    The press's id is the link and the score it found, so opening the same link again
    (a mail scanner's prefetch, then the customer) is one press, while going back to
    a number after another one is a new press that corrects the score.
    """
    found = open_checkin(session, checkin_id)
    if found.state != "open" or found.customer is None:
        return found
    before = found.response.score if found.response is not None else "none"
    press = Inbound(
        channel=CHANNEL,
        address=found.customer.email or "",
        text="",
        provider_id=f"link:{checkin_id}:{value}:{before}",
        received_at=now,
        button_score=(checkin_id, value),
        corrects=True,
    )
    receive(session, now, press, settings)
    return Clicked("scored", found.customer, _response(session, checkin_id))


def comment(
    session: Session, now: datetime, checkin_id: int, text: str, settings: Settings
) -> Clicked:
    """The comment box's text, as the customer's reply to the follow-up question."""
    found = open_checkin(session, checkin_id)
    text = text.strip()[:COMMENT_LIMIT]
    if found.state != "open" or found.customer is None or not text:
        return found
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    reply = Inbound(
        channel=CHANNEL,
        address=found.customer.email or "",
        text=text,
        provider_id=f"link-comment:{checkin_id}:{digest}",  # the same form sent twice: once
        received_at=now,
    )
    receive(session, now, reply, settings)
    return Clicked("commented", found.customer, _response(session, checkin_id))


def unsubscribe(session: Session, now: datetime, address: str) -> list[Customer]:
    """Opt out every customer with this address, as STOP does, recorded as by email."""
    customers = list(session.scalars(select(Customer).where(Customer.email == address)))
    for customer in customers:
        record_opt_out(
            session,
            now,
            customer,
            ConsentSource.EMAIL,
            channel=CHANNEL,
            detail="the unsubscribe link of an email",
        )
    return customers


def customers_at(session: Session, address: str) -> Customer | None:
    """The first customer with this address (whose language the page speaks)."""
    return session.scalar(
        select(Customer).where(Customer.email == address).order_by(Customer.id).limit(1)
    )


def _response(session: Session, checkin_id: int) -> Response | None:
    return session.scalar(select(Response).where(Response.checkin_id == checkin_id))
