"""One scheduler pass at a given `now`: plan, dispatch, remind, expire and check SLAs, and send.

In `run` the pass only queues (`run_pass`, in the scheduler thread) and the
process's sender sends. `tick` runs the pass and a sender side by side: the
sender starts on the first committed batch instead of after the whole pass.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from cadence.rules import load_rules
from escalation.sla import check_slas
from messaging.channels import Transports
from messaging.compose import TemplateBook
from messaging.outbox import DrainReport, Sender
from scheduler.dispatch import Outcome, dispatch, dispatch_batch
from scheduler.planner import plan
from scheduler.reminders import expire_unanswered, send_reminders
from settings import Settings


@dataclass
class TickReport:
    now: datetime
    planned: Counter[str] = field(default_factory=Counter)
    decided: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    reminders: int = 0
    expired: int = 0
    escalated: int = 0  # manager alerts for escalations past their SLA
    drained: DrainReport = field(default_factory=DrainReport)
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.decided[outcome.action] += 1
        if outcome.reason:
            # "quiet hours: waits until ..." -> "quiet hours", so the summary groups them.
            self.reasons[outcome.reason.split(":")[0]] += 1

    def summary(self) -> str:
        planned = ", ".join(f"{k} {v}" for k, v in sorted(self.planned.items()) if v) or "nothing"
        lines = [
            f"tick at {self.now.isoformat()}",
            f"  planned:    {planned}",
            f"  dispatched: {self.decided['send']} to send, {self.decided['wait']} waiting, "
            f"{self.decided['suppress']} suppressed, {self.decided['fail']} failed",
        ]
        for reason, count in self.reasons.most_common():
            lines.append(f"     {count:>6}  {reason}")
        lines.append(
            f"  reminders:  {self.reminders}   expired: {self.expired}"
            f"   escalated to managers: {self.escalated}"
        )
        sent = ", ".join(f"{k} {v}" for k, v in sorted(self.drained.outcomes.items())) or "nothing"
        lines.append(f"  messages:   {sent}")
        if self.drained.reconciled:
            settled = ", ".join(f"{k} {v}" for k, v in sorted(self.drained.reconciled.items()))
            lines.append(f"  lost claims settled: {settled}")
        return "\n".join(lines)


class Stop:
    """A request to end a pass early (SIGTERM): planning stops between batches, sending
    stops claiming and finishes or gives back what is in flight."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []

    def request(self) -> None:
        self.event.set()
        for callback in list(self._callbacks):
            callback()

    def on_request(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)
        if self.event.is_set():
            callback()

    def __bool__(self) -> bool:
        return self.event.is_set()


def run_pass(
    factory: sessionmaker[Session],
    now: datetime,
    settings: Settings,
    report: TickReport,
    *,
    keep_outcomes: bool = False,
    stop: Stop | None = None,
) -> TickReport:
    """Plan, dispatch, remind, expire and check SLAs at `now`: everything but sending."""
    with factory.begin() as session:
        rules = load_rules(session)
        report.planned = plan(session, now, rules, settings.default_tz)
    for outcome in dispatch(factory, now, rules, settings):
        report.add(outcome)
        if keep_outcomes:
            report.outcomes.append(outcome)
        if stop:
            return report
    with factory.begin() as session:
        book = TemplateBook.load(session)
        report.reminders = send_reminders(session, now, rules, settings, book)
        report.expired = expire_unanswered(session, now, rules)
        report.escalated = check_slas(session, now, rules, settings, book)
    return report


def tick(
    factory: sessionmaker[Session],
    now: datetime,
    transports: Transports,
    settings: Settings,
    *,
    keep_outcomes: bool = False,
    stop: Stop | None = None,
) -> TickReport:
    """Run one pass as if the time were `now`, sending as it goes; everything it records carries `now`."""
    report = TickReport(now)
    network = transports.network

    async def start() -> tuple[Sender, asyncio.Task[DrainReport]]:
        sender = Sender(factory, transports, settings, clock=lambda: now)
        return sender, asyncio.create_task(sender.drain())

    sender, sending = network.call(start())
    if stop is not None:

        def shut_down() -> None:
            network.loop.call_soon_threadsafe(
                lambda: asyncio.ensure_future(sender.shutdown(sending))
            )

        stop.on_request(shut_down)
    try:
        run_pass(factory, now, settings, report, keep_outcomes=keep_outcomes, stop=stop)
    finally:
        network.loop.call_soon_threadsafe(sender.producing, False)
        try:
            report.drained = network.call(_result_of(sending))
        finally:
            sender.close()
    return report


async def _result_of(task: asyncio.Task[DrainReport]) -> DrainReport:
    return await task


def preview(factory: sessionmaker[Session], at: datetime, settings: Settings) -> TickReport:
    """What a tick at `at` would do, computed inside a transaction that is rolled back."""
    report = TickReport(at)
    with factory() as session:
        try:
            rules = load_rules(session)
            report.planned = plan(session, at, rules, settings.default_tz)
            book = TemplateBook.load(session)
            while batch := dispatch_batch(session, at, rules, settings, book):
                for outcome in batch:
                    report.add(outcome)
                    report.outcomes.append(outcome)
            report.reminders = send_reminders(session, at, rules, settings, book)
            report.expired = expire_unanswered(session, at, rules)
            report.escalated = check_slas(session, at, rules, settings, book)
        finally:
            session.rollback()
    return report
