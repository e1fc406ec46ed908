"""STOP, START and HELP: opting out takes effect at once, on every channel and for everything queued."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conversation.forwarding import forward_to_rep
from conversation.replies import Reply
from conversation.turn import Turn
from messaging.consent import record_consent
from models import CheckIn, Customer, Message, Response
from models.states import (
    CheckInKind,
    CheckInStatus,
    ConsentAction,
    ConsentSource,
    MessageStatus,
    Purpose,
)

OPTED_OUT = "customer opted out"
ONE_DAY = timedelta(days=1)


def opt_out(turn: Turn, reply: Reply) -> str:
    """Opt the customer out, write it down and confirm once; a repeated STOP changes nothing.

    Said in their own words (not a bare STOP), the message also goes to their rep:
    when the wording only probably meant "stop", or when it says more than that,
    a human should read it. Nothing else is sent to the customer.
    """
    source = ConsentSource.KEYWORD if reply.how == "keyword" else ConsentSource.REPLY
    if not record_opt_out(
        turn.session,
        turn.now,
        turn.customer,
        source,
        channel=turn.inbound.channel,
        message_id=turn.message.id,
    ):
        return "stop"
    # Queued after the withdrawal, so the confirmation itself is not cancelled.
    turn.reply("opt_out_confirmation", purpose=Purpose.OPT_OUT_CONFIRMATION)
    if reply.how == "likely" or (reply.how != "keyword" and _says_more(reply.comment)):
        forward_to_rep(turn, answer=False)
    return "stop"


def opt_in(turn: Turn, reply: Reply) -> str:
    """Opt an opted-out customer back in, write it down, with one confirmation."""
    record_opt_in(
        turn.session,
        turn.now,
        turn.customer,
        ConsentSource.KEYWORD if reply.how == "keyword" else ConsentSource.REPLY,
        channel=turn.inbound.channel,
        message_id=turn.message.id,
    )
    turn.reply("opt_in_confirmation", purpose=Purpose.OPT_IN_CONFIRMATION)
    return "start"


def record_opt_out(
    session: Session,
    now: datetime,
    customer: Customer,
    source: str,
    *,
    channel: str | None = None,
    message_id: int | None = None,
    detail: str | None = None,
) -> bool:
    """Opt the customer out everywhere, withdraw what is queued, write it down.

    False (and nothing changed) when they are opted out already.
    """
    if customer.opted_out_at is not None:
        return False
    customer.opted_out_at = now
    record_consent(
        session,
        now,
        customer,
        ConsentAction.OPT_OUT,
        source,
        channel=channel,
        message_id=message_id,
        detail=detail,
    )
    withdraw_everything(session, now, customer)
    return True


def record_opt_in(
    session: Session,
    now: datetime,
    customer: Customer,
    source: str,
    *,
    channel: str | None = None,
    message_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Opt the customer back in and write it down (surveys start again from the next pass)."""
    customer.opted_out_at = None
    record_consent(
        session,
        now,
        customer,
        ConsentAction.OPT_IN,
        source,
        channel=channel,
        message_id=message_id,
        detail=detail,
    )


def _says_more(comment: str) -> bool:
    """Whether the words beside an opt-out carry something for a human (a complaint, a question)."""
    return sum(ch.isalpha() for ch in comment) >= 12


def welcome_again(turn: Turn, reply: Reply | None = None) -> str:
    """START from someone who never left (Telegram's /start, a stray "yes"): a HELP note, once a day."""
    if not turn.replied_since("help", turn.now - ONE_DAY):
        turn.reply("help", purpose=Purpose.HELP)
    return "start"


def send_help(turn: Turn, reply: Reply | None = None) -> str:
    """Who we are and how to opt out (answered even after an opt-out: carriers require it)."""
    turn.reply("help", purpose=Purpose.HELP)
    return "help"


def withdraw_everything(session: Session, now: datetime, customer: Customer) -> None:
    """Cancel every queued message to the customer and suppress every check-in not yet sent."""
    session.execute(
        update(Message)
        .where(
            Message.customer_id == customer.id,
            Message.direction == "out",
            Message.status == MessageStatus.QUEUED,
        )
        .values(status="cancelled", error=OPTED_OUT)
    )
    pending = session.scalars(
        select(CheckIn).where(
            CheckIn.customer_id == customer.id,
            CheckIn.status.in_((CheckInStatus.SCHEDULED, CheckInStatus.QUEUED)),
        )
    )
    for checkin in pending:
        checkin.status, checkin.reason = "suppressed", OPTED_OUT
        checkin.closed_at, checkin.not_before = now, None
        if checkin.kind == CheckInKind.PERIODIC:
            # As dispatch does: otherwise this periodic would block the next one forever.
            customer.periodic_anchor_at = now
    # Whatever they write next is not an answer to our question any more.
    session.execute(
        update(Response)
        .where(Response.customer_id == customer.id, Response.awaiting_comment.is_(True))
        .values(awaiting_comment=False)
    )
