"""Queuing: an outgoing message is a row, committed with the decision to send it.

Each message goes to one of two lanes. The interactive lane carries what a person
is waiting for (answers to a customer's message, confirmations, rep and manager
alerts, replies to rep commands); the bulk lane carries what the bot starts
(surveys, reminders, delay notices, recovery checks). Each lane has its own claim
and its own worker, so a reply never waits behind a morning's surveys.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from messaging.channels import registry
from messaging.channels.base import Buttons, buttons_to_json
from messaging.compose import Composed, TemplateBook
from messaging.outbox import doorbell
from messaging.render import TemplateError
from models import Message
from models.states import BOT_STARTED

log = logging.getLogger(__name__)

INTERACTIVE = "interactive"
BULK = "bulk"
LANES = (INTERACTIVE, BULK)
# Messages the bot starts. They go in the bulk lane and keep to the customer's quiet
# hours even when retried; everything else answers someone and goes at once.


def lane_for(purpose: str) -> str:
    return BULK if purpose in BOT_STARTED else INTERACTIVE


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
    not_before: datetime | None = None,
) -> Message:
    """Add an outgoing message to the queue (committed with the caller's transaction).

    With `composed`, the message remembers its template, so it can be rendered
    again for another channel if this one turns out to be dead. The lane's
    sender is woken when the transaction commits. With `not_before` (a rep alert
    outside the rep's working hours) it waits in the queue until then.
    """
    row = message_row(
        now=now,
        channel=channel,
        address=address,
        body=body,
        purpose=purpose,
        customer_id=customer_id,
        rep_id=rep_id,
        checkin_id=checkin_id,
        buttons=buttons,
        composed=composed,
        not_before=not_before,
    )
    message = Message(**row)
    session.add(message)
    doorbell.ring_on_commit(session, row["lane"])
    return message


def message_row(
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
    not_before: datetime | None = None,
) -> dict[str, Any]:
    """The columns of a queued message, for `queue_message` or `queue_many`."""
    return {
        "direction": "out",
        "channel": channel,
        "address": address,
        "body": body,
        "purpose": purpose,
        "lane": lane_for(purpose),
        "customer_id": customer_id,
        "rep_id": rep_id,
        "checkin_id": checkin_id,
        "buttons": buttons_to_json(buttons),
        "template": _template_json(composed),
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": max(now, not_before) if not_before is not None else now,
        "created_at": now,
    }


def queue_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Queue many messages in one statement (dispatch queues a few hundred at a time).

    A plain INSERT without RETURNING: the driver sends it as one pipelined
    executemany, with none of the ORM's per-object bookkeeping.
    """
    if not rows:
        return
    session.connection().execute(insert(Message), rows)
    for lane in {row["lane"] for row in rows}:
        doorbell.ring_on_commit(session, lane)


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
    if "can_reply_commands" in context:
        context["can_reply_commands"] = registry.takes_commands(channel)
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
