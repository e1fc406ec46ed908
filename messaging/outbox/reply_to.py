"""Where a customer's reply to a message should go, for channels that can say (email's Reply-To),
and whether a message is to the team, for channels that treat those differently.

Read for each claimed batch, in the claim's transaction, so it needs no column of its
own: the email of the customer's rep. Messages to reps carry none.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from messaging.channels import Transports
from messaging.outbox.claims import Claimed
from models import Customer, Rep


def add_reply_to(session: Session, batch: list[Claimed], channels: set[str]) -> None:
    """Fill in `reply_to` (the customer's rep's email) for the messages to customers on
    `channels`, the channels that take one; one query per batch, none when there are none."""
    wanted = [m for m in batch if m.channel in channels and m.rep_id is None and m.customer_id]
    if not wanted:
        return
    emails: dict[int | None, str | None] = dict(
        session.execute(
            select(Customer.id, Rep.email)
            .join(Rep, Customer.rep_id == Rep.id)
            .where(Customer.id.in_({m.customer_id for m in wanted}), Rep.email.is_not(None))
        ).all()
    )
    for message in wanted:
        message.reply_to = emails.get(message.customer_id) or None


def reply_to_channels(transports: Transports) -> set[str]:
    """The channels whose `send` takes `reply_to` (they declare `takes_reply_to`); the others
    never see it, since `add_reply_to` leaves their messages' `reply_to` None."""
    return {
        name
        for name, channel in transports.by_channel.items()
        if getattr(channel, "takes_reply_to", False)
    }


def envelope(transport: Any, message: Claimed) -> dict[str, Any]:
    """What a channel that asks for it learns beyond the text (`send`'s keyword arguments):
    where a reply goes (`takes_reply_to`), and that the message is to a rep or manager
    (`marks_team`: email leaves out its unsubscribe headers and link)."""
    extra: dict[str, Any] = {}
    if message.reply_to:
        extra["reply_to"] = message.reply_to
    if message.rep_id is not None and getattr(transport, "marks_team", False):
        extra["to_team"] = True
    return extra
