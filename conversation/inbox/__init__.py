"""The inbox: a webhook stores the message and answers at once; its turn is taken after.

Twilio waits at most 15 s for an answer, and a busy morning brings thousands of
replies in minutes, so the webhook does only what makes the message safe: one
idempotent insert (the provider id is unique, so a retry stores nothing),
committed before the 200. Everything else, the message's turn (who wrote, the
score, our answer, an escalation), is taken from the database afterwards
(`turns.py`): by the inbox worker of the process that stored it, woken at once
(`worker.py`), or, after a crash, by whichever process looks next.

A turn is taken exactly once: its transaction marks the message processed as
it starts (on PostgreSQL the row lock is the claim, and SKIP LOCKED lets other
takers pass; on SQLite the conditional UPDATE takes the write lock), and a turn
that fails rolls back whole and is tried again. A sender's messages are taken
in the order they were stored: a message waits while an earlier one from the
same address is waiting.
"""

from conversation.inbox.turns import (
    MAX_ATTEMPTS,
    due_turns,
    store,
    store_many,
    take_turn,
    take_turns,
)
from conversation.inbox.worker import Inbox
from conversation.inbox.writer import Writer

__all__ = [
    "MAX_ATTEMPTS",
    "Inbox",
    "Writer",
    "due_turns",
    "store",
    "store_many",
    "take_turn",
    "take_turns",
]
