"""The one outgoing path: queue a message in the database, then send it.

Queuing (`queue.py`) happens inside the caller's transaction, so a message
exists exactly when the decision to send it was committed. Sending
(`sender.py`) claims due messages lane by lane with a lease (`claims.py`),
paces them within the providers' shared budgets (`budgets.py`), sends them
concurrently on the loop that owns the network, writes outcomes in batches
(`record.py`) and settles lost claims (`reconcile.py`). Several processes may
send from the same queue; a message is claimed by one of them only.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from messaging.channels import Transports
from messaging.outbox.failures import MAX_ATTEMPTS, backoff
from messaging.outbox.lanes import DrainReport
from messaging.outbox.queue import (
    BOT_STARTED,
    BULK,
    INTERACTIVE,
    LANES,
    lane_for,
    message_row,
    queue_many,
    queue_message,
    render_for,
)
from messaging.outbox.sender import Sender
from models import Message
from models.states import MessageStatus
from settings import Settings


def drain(
    factory: sessionmaker[Session],
    now: datetime,
    transports: Transports,
    *,
    settings: Settings,
) -> DrainReport:
    """Send every message due at `now` and return what happened (commands, tests, the simulator).

    Blocks the calling thread while the network loop sends; never call it on that loop.
    """

    async def go() -> DrainReport:
        sender = Sender(factory, transports, settings, clock=lambda: now)
        sender.producing(False)
        try:
            return await sender.drain()
        finally:
            sender.close()

    return transports.network.call(go())


def wait_until_settled(
    factory: sessionmaker[Session], customer_id: int, now: datetime, timeout: float = 3.0
) -> bool:
    """Block until none of the customer's messages due at `now` is queued or being sent.

    For the demo's phone simulator, which shows the bot's answer on the next page
    while the process's own sender (or a `drain`) is sending it.
    """
    deadline = time.monotonic() + timeout
    while True:
        with factory() as session:
            waiting = session.scalar(
                select(Message.id)
                .where(
                    Message.customer_id == customer_id,
                    Message.status.in_((MessageStatus.QUEUED, MessageStatus.SENDING)),
                    Message.next_attempt_at <= now,
                )
                .limit(1)
            )
        if waiting is None:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


__all__ = [
    "BOT_STARTED",
    "BULK",
    "INTERACTIVE",
    "LANES",
    "MAX_ATTEMPTS",
    "DrainReport",
    "Sender",
    "backoff",
    "drain",
    "lane_for",
    "message_row",
    "queue_many",
    "queue_message",
    "render_for",
    "wait_until_settled",
]
