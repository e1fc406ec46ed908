"""Storing webhooks' messages in batches: one statement for all that are waiting.

A webhook's answer waits until its message is committed. In a burst dozens
wait at once, and each paying for its own thread hop, pooled connection (and
its ping), statements and commit (a WAL flush on PostgreSQL, the write lock on
SQLite) is where an acknowledgement's time went. One thread instead takes
whatever has queued up and stores it with one INSERT ... ON CONFLICT DO
NOTHING, in autocommit on a connection of its own: one round trip, committed
on its own, for every webhook waiting; while it runs, the next batch gathers.
Every round trip also costs the thread a wait for Python's lock (the GIL)
when it comes back: under load that wait, not the database, was most of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from conversation.inbound import Inbound
from conversation.inbox.turns import store_many

log = logging.getLogger(__name__)

# Rows in one INSERT at most; more wait for the next one (a few milliseconds).
MOST_AT_ONCE = 500
_STOP = object()


class Writer:
    """Stores inbound messages for the webhooks on the loop it was created on."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.engine: Engine = factory.kw["bind"]
        self._connection: Connection | None = None
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write_forever, name="inbox-writer")
        self._thread.start()

    async def store(self, inbound: Inbound) -> None:
        """Return once `inbound` is committed (or was already); raise if it could not be."""
        stored: asyncio.Future[None] = self._loop.create_future()
        self._queue.put((inbound, stored))
        await stored

    def close(self) -> None:
        """Write what is queued, then stop the thread (blocks; call off the loop or at exit)."""
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _write_forever(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while len(batch) < MOST_AT_ONCE:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in batch:
                stopping = True
                batch = [item for item in batch if item is not _STOP]
            if batch:
                self._write(batch)  # type: ignore[arg-type]
        if self._connection is not None:
            self._connection.close()

    def _write(self, batch: list[tuple[Inbound, asyncio.Future[None]]]) -> None:
        error: Exception | None = None
        try:
            if self._connection is None:
                self._connection = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
            store_many(self._connection, [inbound for inbound, _ in batch])
        except Exception as failure:  # noqa: BLE001 - each webhook answers 500; Twilio retries
            log.exception("storing %d inbound messages failed", len(batch))
            error = failure
            if self._connection is not None:  # the database went away, maybe: start afresh
                with contextlib.suppress(Exception):
                    self._connection.close()
                self._connection = None
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            self._loop.call_soon_threadsafe(_settle, [stored for _, stored in batch], error)


def _settle(waiting: list[asyncio.Future[None]], error: Exception | None) -> None:
    for stored in waiting:
        if stored.done():  # the request was cancelled (the client went away)
            continue
        if error is None:
            stored.set_result(None)
        else:
            stored.set_exception(error)
