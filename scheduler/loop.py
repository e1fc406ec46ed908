"""The scheduler inside `run`: `schedule` in its own thread, calling plain functions.

Planning runs every minute; the outbox (surveys, confirmations, rep alerts) is
drained every few seconds so a reply gets its answer quickly.
"""

from __future__ import annotations

import logging
import threading

import schedule
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from messaging.channels import Transports
from messaging.outbox import drain
from scheduler.tick import tick
from settings import Settings

log = logging.getLogger(__name__)


class SchedulerThread:
    def __init__(
        self,
        factory: sessionmaker[Session],
        transports: Transports,
        settings: Settings,
        *,
        tick_seconds: int = 60,
        drain_seconds: int = 3,
    ) -> None:
        self.factory, self.transports, self.settings = factory, transports, settings
        self.jobs = schedule.Scheduler()
        self.jobs.every(tick_seconds).seconds.do(self._guarded, self.run_tick)
        self.jobs.every(drain_seconds).seconds.do(self._guarded, self.run_drain)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="aftercare-scheduler", daemon=True)

    def run_tick(self) -> None:
        report = tick(self.factory, utcnow(), self.transports, self.settings)
        if report.planned.total() or report.decided.total() or report.drained.total:
            log.info("%s", report.summary())

    def run_drain(self) -> None:
        report = drain(self.factory, utcnow(), self.transports, default_tz=self.settings.default_tz)
        if report.total:
            log.info("outbox: %s", dict(report.outcomes))

    def _guarded(self, job: object) -> None:
        try:
            job()  # type: ignore[operator]
        except Exception:  # one bad pass must not stop the scheduler
            log.exception("scheduler job failed")

    def _loop(self) -> None:
        self._guarded(self.run_tick)
        while not self._stop.is_set():
            self.jobs.run_pending()
            self._stop.wait(0.5)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
