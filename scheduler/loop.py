"""The scheduler inside `run`: `schedule` in its own thread, calling plain functions.

A pass (plan, dispatch, remind, expire, SLAs) runs every minute and only
queues; the process's sender, on the network loop, is woken by each committed
batch and sends. Planning therefore never holds up a send, and a send never
holds up planning.
"""

from __future__ import annotations

import logging
import threading

import schedule
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from scheduler.tick import Stop, TickReport, run_pass
from settings import Settings

log = logging.getLogger(__name__)


class SchedulerThread:
    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        tick_seconds: int = 60,
    ) -> None:
        self.factory, self.settings = factory, settings
        self.jobs = schedule.Scheduler()
        self.jobs.every(tick_seconds).seconds.do(self._guarded)
        self._stop = Stop()
        self._thread = threading.Thread(target=self._loop, name="aftercare-scheduler", daemon=True)

    def run_pass(self) -> None:
        now = utcnow()
        report = run_pass(self.factory, now, self.settings, TickReport(now), stop=self._stop)
        if report.planned.total() or report.decided.total() or report.reminders or report.escalated:
            log.info("%s", report.summary())

    def _guarded(self) -> None:
        try:
            self.run_pass()
        except Exception:  # one bad pass must not stop the scheduler
            log.exception("scheduler pass failed")

    def _loop(self) -> None:
        self._guarded()
        while not self._stop:
            self.jobs.run_pending()
            self._stop.event.wait(0.5)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop between batches (a pass in progress ends at its next batch)."""
        self._stop.request()
        self._thread.join(timeout=10)
