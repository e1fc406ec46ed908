"""What a rep sends us: /ack, /resolve, ACK n, DONE n note, and the note after a resolve button.

`messaging.inbound.receive` has already stored the message (with `rep_id`) when it
calls `handle_rep_message`; this module decides what the message does.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from models import Rep
from settings import Settings

if TYPE_CHECKING:
    from messaging.inbound import Inbound

log = logging.getLogger(__name__)

# "/ack", "/ack 12", "/resolve@AftercareBot 12 fixed", "ACK 12", "done #12 replaced the part".
_COMMAND = re.compile(
    r"^\s*(?:/(?:ack|resolve|done)(?:@\w+)?(?:\s|$)|(?:ack|done|resolve)\s*#?\d+\b)",
    re.IGNORECASE,
)


def looks_like_rep_command(text: str) -> bool:
    """Whether `text` is addressed to the escalation machinery rather than a chat message."""
    return bool(_COMMAND.match(text))


def handle_rep_message(
    session: Session, now: datetime, rep: Rep, inbound: Inbound, settings: Settings
) -> str:
    """Act on a rep's message (already stored); return what it did, e.g. "acknowledged".

    The hook for the escalation work: for now every rep message is only recorded.
    """
    del session, settings
    log.info(
        "rep %s wrote at %s: %r (recorded; commands not handled yet)",
        rep.external_id,
        now,
        inbound.text,
    )
    return "rep_message"
