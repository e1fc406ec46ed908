"""Outcomes are written in batches: after RECORD_EVERY sends or RECORD_AFTER seconds.

One write per batch (an executemany per kind of outcome) instead of one per
message is most of what lets a process send hundreds a second. A batch that
cannot be written is kept and tried again with the next: its claims stay leased
meanwhile, and reconciliation settles them if this process never manages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from messaging.outbox.lanes import DrainReport, Lane
from messaging.outbox.record import Outcome

log = logging.getLogger(__name__)

RECORD_EVERY = 200
RECORD_AFTER = 0.25


class Recorder:
    """Collects each lane's outcomes and writes them; `db(lane, fn, *args)` runs off the loop."""

    def __init__(
        self,
        db: Callable[..., Awaitable[Any]],
        write: Callable[[list[Outcome]], None],
        report: DrainReport,
        retry_after: float,
    ) -> None:
        self._db, self._write, self.report, self.retry_after = db, write, report, retry_after
        self._chores: set[asyncio.Future[None]] = set()

    def done(self, lane: Lane, outcome: Outcome) -> None:
        lane.pending.append(outcome)
        self.report.outcomes[outcome.kind] += 1
        if len(lane.pending) >= RECORD_EVERY:
            self._background(self.flush(lane))
        else:
            self._schedule_flush(lane)

    async def flush(self, lane: Lane) -> None:
        async with lane.flushing:
            if lane.flush_timer is not None:
                lane.flush_timer.cancel()
                lane.flush_timer = None
            outcomes, lane.pending = lane.pending, []
            if not outcomes:
                return
            try:
                await self._db(lane, self._write, outcomes)
            except Exception:
                log.exception("writing %d outcomes failed; keeping them", len(outcomes))
                lane.pending[:0] = outcomes
                await asyncio.sleep(self.retry_after)
                self._schedule_flush(lane)

    async def chores_done(self) -> None:
        if self._chores:
            await asyncio.wait(set(self._chores))

    def _schedule_flush(self, lane: Lane) -> None:
        if lane.flush_timer is None:
            lane.flush_timer = asyncio.get_running_loop().call_later(
                RECORD_AFTER, lambda: self._background(self.flush(lane))
            )

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` without waiting for it, keeping a reference until it is done."""
        task = asyncio.ensure_future(work)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)
