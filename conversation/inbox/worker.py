"""The inbox in a running app: webhooks store through it, and its worker takes the turns.

It lives on the loop that owns the network (uvicorn's in `run`). Storing goes
through the batch writer's thread (`writer.py`); turns are taken on a thread
of the inbox's own. Storing rings the worker; it also looks every few seconds,
for turns whose retry has come and for what a crashed process (or another one)
stored and never took.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from conversation.inbound import Inbound
from conversation.inbox.turns import due_turns, take_turn
from conversation.inbox.writer import Writer
from settings import Settings

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

# With nothing rung, look this often (retries, other processes, a crash's leftovers).
POLL_SECONDS = 2.0
# A pass that fails (the database went away) is tried again after this, doubling, up to a minute.
RETRY_AFTER_FAILURE = 1.0


class Inbox:
    """Stores the webhooks' messages and takes their turns until stopped. Create it on the loop."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory, self.settings = factory, settings
        self._writer = Writer(factory)
        self._bell = asyncio.Event()
        self._stopping = threading.Event()  # read between turns, on the worker's thread
        self._executor = ThreadPoolExecutor(1, "inbox")

    async def store(self, inbound: Inbound) -> None:
        """Store `inbound` for its turn (once per provider id) and wake the worker.

        Returns once it is committed; raises when it could not be (answer 5xx: the
        provider delivers it again).
        """
        await self._writer.store(inbound)
        self._bell.set()

    async def run(self) -> None:
        """Take turns as they come, until `stop()`."""
        loop = asyncio.get_running_loop()
        failures = 0
        while not self._stopping.is_set():
            self._bell.clear()  # a ring during the pass below makes the next pass start at once
            try:
                took_any = await loop.run_in_executor(self._executor, self._pass)
                failures = 0
            except Exception:  # never let the inbox die: the next pass tries again
                failures += 1
                log.exception("inbox pass failed; trying again")
                await asyncio.sleep(min(RETRY_AFTER_FAILURE * 2 ** (failures - 1), 60.0))
                continue
            if not took_any:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._bell.wait(), POLL_SECONDS)

    def _pass(self) -> bool:
        """Take the turns that are due now, oldest first; True when any was taken."""
        with self.factory() as session:
            due = due_turns(session, utcnow())
        took_any = False
        for message_id in due:
            if self._stopping.is_set():
                break
            took_any |= take_turn(self.factory, message_id, self.settings) == "done"
        return took_any

    def stop(self) -> None:
        """Stop after the turn in progress (call on the loop)."""
        self._stopping.set()
        self._bell.set()

    async def shutdown(self, runner: asyncio.Task[Any] | None) -> None:
        """Stop `runner` (the task running `run()`, if any) and the writer.

        A turn cut short rolls back and is taken again, here after a restart or elsewhere.
        """
        self.stop()
        if runner is not None:
            await asyncio.wait({runner}, timeout=10)
        self._executor.shutdown(wait=False)
        await asyncio.to_thread(self._writer.close)
