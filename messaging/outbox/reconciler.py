"""The reconciler: settles claims whose lease ran out (a dead process, a send cut off).

Each round takes a small batch of lost claims, asks the provider about a few at a
time (Twilio can say whether a message went; Telegram cannot, so those are sent
again, marked) and writes what it found (messaging/outbox/reconcile.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from messaging.channels import Transports
from messaging.channels.base import SendError
from messaging.outbox.reconcile import Finding, Lost, adopt_older_versions, settle, take_lost

log = logging.getLogger(__name__)
T = TypeVar("T")

# Reconciliation asks the provider about this many lost claims at a time.
LOOK_UPS_IN_FLIGHT = 8


class Reconciler:
    """Settles lost claims for one sender; `db` runs blocking work off the loop."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        transports: Transports,
        db: Callable[..., Awaitable[Any]],
        *,
        worker: str,
        lease: timedelta,
        call_limit: float,
        clock: Callable[[], datetime],
        default_tz: str,
        counts: Counter[str],
    ) -> None:
        self.factory, self.transports, self._db = factory, transports, db
        self.worker, self.lease, self.call_limit = worker, lease, call_limit
        self.clock, self.default_tz, self.counts = clock, default_tz, counts

    async def forever(self) -> None:
        while True:
            try:
                await self.once()
            except Exception:  # the database: the next round tries again
                log.exception("outbox reconciliation failed")
            await asyncio.sleep(max(self.lease.total_seconds() / 3, 1.0))

    async def once(self) -> None:
        """Settle every claim whose lease has run out (one batch at a time)."""
        # A provider limits concurrent requests per account too; a crash can leave
        # hundreds of claims to look up, so only a few questions at a time.
        asking = asyncio.Semaphore(LOOK_UPS_IN_FLIGHT)

        async def look_up(lost: Lost) -> Finding:
            async with asking:
                return await self._look_up(lost)

        await self._db(self._adopt_older_versions)
        # A batch small enough that its look-ups end well within the lease it takes.
        batch = 2 * LOOK_UPS_IN_FLIGHT
        while lost := await self._db(self._take_lost, batch):
            findings = await asyncio.gather(*(look_up(item) for item in lost))
            counts = await self._db(self._settle, list(findings))
            for outcome, count in counts.items():
                self.counts[outcome] += count
            if len(lost) < batch:
                return

    def _take_lost(self, limit: int) -> list[Lost]:
        with self.factory.begin() as session:
            return take_lost(session, utcnow(), self.worker, self.lease, limit)

    def _adopt_older_versions(self) -> None:
        with self.factory.begin() as session:
            adopt_older_versions(session, utcnow(), self.lease)

    async def _look_up(self, lost: Lost) -> Finding:
        transport = self.transports.get(lost.channel)
        if not transport.can_look_up:
            return Finding(lost, "blind")
        try:
            async with asyncio.timeout(self.call_limit):
                found = await transport.look_up(lost.address, lost.body, lost.since)
        except (SendError, TimeoutError) as error:
            log.warning("cannot look message %s up (%r); trying again later", lost.id, error)
            return Finding(lost, "unknown")
        return Finding(lost, "looked_up", tuple(found))

    def _settle(self, findings: list[Finding]) -> dict[str, int]:
        with self.factory.begin() as session:
            return settle(session, self.clock(), self.worker, findings, self.default_tz)
