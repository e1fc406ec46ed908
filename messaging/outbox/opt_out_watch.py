"""Opt-outs that arrive while claimed messages wait their turn.

A survey may wait seconds for its pacing slot. A STOP in that time must still
stop it, so the opt-outs of every customer with a claimed message are read again
four times a second: one query for all of them, shared by every send that asks.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from messaging.outbox.claims import Claimed
from models.states import ALLOWED_AFTER_OPT_OUT

# Messages a customer who opted out may still receive (the confirmation itself, HELP).
# How often the opt-outs of the customers whose messages are claimed are read again.
OPT_OUTS_FRESH_FOR = 0.25


class OptOutWatch:
    """Which customers with claimed messages opted out since; `read` asks the database."""

    def __init__(self, read: Callable[[set[int]], Awaitable[set[int]]]) -> None:
        self._read = read
        self._claimed: Counter[int] = Counter()
        self._opted_out: set[int] = set()
        self._read_at = -1.0
        self._reading: asyncio.Future[None] | None = None

    def claimed(self, message: Claimed) -> None:
        if message.customer_id is not None:
            self._claimed[message.customer_id] += 1

    def settled(self, message: Claimed) -> None:
        if message.customer_id is not None:
            self._claimed[message.customer_id] -= 1
            if self._claimed[message.customer_id] <= 0:
                del self._claimed[message.customer_id]

    async def opted_out_meanwhile(self, message: Claimed) -> bool:
        """Whether the customer opted out since the claim (fresh to within a quarter second)."""
        if message.customer_id is None or message.purpose in ALLOWED_AFTER_OPT_OUT:
            return False
        if time.monotonic() - self._read_at > OPT_OUTS_FRESH_FOR:
            if self._reading is None:
                self._reading = asyncio.ensure_future(self._refresh())
            await asyncio.shield(self._reading)
        return message.customer_id in self._opted_out

    async def _refresh(self) -> None:
        try:
            read_at = time.monotonic()
            self._opted_out = await self._read(set(self._claimed))
            self._read_at = read_at
        finally:
            self._reading = None
