"""Waking the senders: a committed message rings its lane's bell at once.

Inside a process each sender has a `Bell` (one asyncio.Event per lane) on the
network loop; the commit that queued a message rings it from whatever thread
committed. Across processes PostgreSQL carries the ring: `pg_notify` is sent
inside the queuing transaction, so it is delivered exactly when the rows become
visible, to every sender that LISTENs. The senders also poll now and then, for
retries whose time has come and for SQLite files shared by several processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable

from sqlalchemy import event, make_url, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "aftercare_outbox"
_PENDING = "aftercare_outbox_lanes"  # Session.info key: lanes to ring after commit


class Bell:
    """One event per lane, on the loop that owns the sender."""

    def __init__(self, lanes: Iterable[str]) -> None:
        self.loop = asyncio.get_running_loop()
        self._events = {lane: asyncio.Event() for lane in lanes}

    def ring(self, lane: str) -> None:
        """Wake the lane's worker (call on the loop; `ring_everywhere` does it from threads)."""
        bell = self._events.get(lane)
        if bell is not None:
            bell.set()

    def ring_all(self) -> None:
        for bell in self._events.values():
            bell.set()

    async def wait(self, lane: str, timeout: float) -> bool:
        """Wait for a ring or the timeout; True when rung. The ring is used up."""
        bell = self._events[lane]
        try:
            await asyncio.wait_for(bell.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            # Rows committed before the ring are visible to the claim that follows.
            bell.clear()
        return True


_bells: list[Bell] = []
_lock = threading.Lock()


def register(bell: Bell) -> None:
    with _lock:
        _bells.append(bell)


def unregister(bell: Bell) -> None:
    with _lock:
        if bell in _bells:
            _bells.remove(bell)


def ring_everywhere(lanes: Iterable[str]) -> None:
    """Ring `lanes` on every bell in this process, from any thread."""
    with _lock:
        bells = list(_bells)
    for bell in bells:
        for lane in lanes:
            with contextlib.suppress(RuntimeError):  # its loop has just closed
                bell.loop.call_soon_threadsafe(bell.ring, lane)


def ring_on_commit(session: Session, lane: str) -> None:
    """Ring `lane` when the session's transaction commits (here, and through NOTIFY elsewhere)."""
    pending: set[str] = session.info.setdefault(_PENDING, set())
    if lane in pending:
        return
    pending.add(lane)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_notify(:channel, :lane)"), {"channel": NOTIFY_CHANNEL, "lane": lane}
        )


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    lanes = session.info.pop(_PENDING, None)
    if lanes:
        ring_everywhere(lanes)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


async def listen(database_url: str, bell: Bell, *, retry_seconds: float = 5.0) -> None:
    """Ring `bell` for every NOTIFY from other processes, until cancelled (PostgreSQL only)."""
    import psycopg

    conninfo = (
        make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                bell.ring_all()  # anything queued while we were not listening
                async for notice in conn.notifies():
                    bell.ring(notice.payload)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the database restarts; polling covers the gap
            log.warning("outbox LISTEN lost (%s); retrying in %.0fs", error, retry_seconds)
            await asyncio.sleep(retry_seconds)
