"""The inbox in a running app: webhooks store through it, and its worker takes the turns.

It lives on the loop that owns the network (uvicorn's in `run`). Storing goes
through the batch writer's thread (`writer.py`); turns are taken on a thread
of the inbox's own. Storing rings the worker; it also looks every few seconds,
for turns whose retry has come and for what a crashed process (or another one)
stored and never took.

Python runs one thread at a time, and a turn is some twenty statements of ORM
work: taken flat out during a burst, turns held the event loop back from
acknowledging (p99 twice as high here). So while webhooks are arriving the
worker takes one turn at a time and rests after each as long as it took; the
answers come a little later, and the burst is acknowledged well inside
Twilio's 15 s. Once webhooks stop, it takes two at a time (different senders),
one running while the other waits for the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from conversation.inbound import Inbound
from conversation.inbox.turns import due_turns, take_turn
from conversation.inbox.writer import Writer
from settings import Settings

log = logging.getLogger(__name__)

# With nothing rung, look this often (retries, other processes, a crash's leftovers).
POLL_SECONDS = 2.0
# A pass that fails (the database went away) is tried again after this, doubling, up to a minute.
RETRY_AFTER_FAILURE = 1.0
# Turns taken side by side (for different senders): while one waits for the database,
# another runs; more only fight over the interpreter.
TURNS_AT_ONCE = 2
# Webhooks stored this recently mean a burst is on: rest after each turn, as long as it took.
BURST_WINDOW = 0.05
LONGEST_REST = 0.1


class Inbox:
    """Stores the webhooks' messages and takes their turns until stopped. Create it on the loop."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory, self.settings = factory, settings
        self._writer = Writer(factory)
        self._bell = asyncio.Event()
        self._stopping = threading.Event()  # read between turns, on the worker's thread
        self._executor = ThreadPoolExecutor(TURNS_AT_ONCE, "inbox")
        self._last_stored = 0.0  # time.monotonic() of the last webhook stored
        self._one_at_a_time = threading.Lock()

    async def store(self, inbound: Inbound) -> None:
        """Store `inbound` for its turn (once per provider id) and wake the worker.

        Returns once it is committed; raises when it could not be (answer 5xx: the
        provider delivers it again).
        """
        await self._writer.store(inbound)
        self._last_stored = time.monotonic()
        self._bell.set()

    async def run(self) -> None:
        """Take turns as they come, until `stop()`."""
        loop = asyncio.get_running_loop()
        failures = 0
        while not self._stopping.is_set():
            self._bell.clear()  # a ring during the pass below makes the next pass start at once
            try:
                due = await loop.run_in_executor(self._executor, self._due)
                # Each sender at most once in `due`: their turns may run side by side.
                outcomes = await asyncio.gather(
                    *(loop.run_in_executor(self._executor, self._take, m) for m in due)
                )
                failures = 0
            except Exception:  # never let the inbox die: the next pass tries again
                failures += 1
                log.exception("inbox pass failed; trying again")
                await asyncio.sleep(min(RETRY_AFTER_FAILURE * 2 ** (failures - 1), 60.0))
                continue
            if "done" not in outcomes:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._bell.wait(), POLL_SECONDS)

    def _due(self) -> list[int]:
        with self.factory() as session:
            return due_turns(session, utcnow())

    def _take(self, message_id: int) -> str:
        """One turn, on a worker thread. During a burst, one at a time and each followed by
        a rest as long as it took."""
        if self._stopping.is_set():
            return "stopped"
        if time.monotonic() - self._last_stored >= BURST_WINDOW:
            return take_turn(self.factory, message_id, self.settings)
        with self._one_at_a_time:
            started = time.monotonic()
            outcome = take_turn(self.factory, message_id, self.settings)
            time.sleep(min(time.monotonic() - started, LONGEST_REST))  # the loop's turn
        return outcome

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
