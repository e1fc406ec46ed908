"""The sender: two lanes of concurrent sends on the loop that owns the network.

Each lane has its own worker, its own claim, its own bound on requests in
flight, its own database threads and its own bell: the interactive lane
(answers, confirmations, rep alerts) never waits behind the bulk lane
(surveys, reminders, delay notices). A worker claims due messages, starts one
task per message (bounded; messages to one address keep their order), and
hands outcomes to a recorder that writes them in batches. Budgets shared
through the database pace each provider sender; a 429 pauses it everywhere.
A reconciler settles claims whose lease ran out.

Shutdown is structured: stop claiming, let in-flight sends finish (or, past
the grace period, give their claims back), write every outcome, then return.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from messaging.channels import Transports
from messaging.channels.base import SendError, buttons_from_json
from messaging.outbox import doorbell
from messaging.outbox.budgets import Budgets, NoSlotInTime, Paused
from messaging.outbox.claims import Claimed, claim, opted_out
from messaging.outbox.metrics import IN_FLIGHT, PAUSED, SEND_SECONDS, THROTTLED
from messaging.outbox.queue import BULK, INTERACTIVE, LANES
from messaging.outbox.reconcile import Finding, Lost, adopt_older_versions, settle, take_lost
from messaging.outbox.record import Outcome, record
from settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 6
# Messages a customer who opted out may still receive (the confirmation itself, HELP).
ALLOWED_AFTER_OPT_OUT = frozenset({"opt_out_confirmation", "help"})
# Outcomes are written after this many sends or this many seconds, whichever comes first.
RECORD_EVERY = 200
RECORD_AFTER = 0.25
# Requests in flight reserved for the interactive lane, on top of the bulk lane's.
INTERACTIVE_IN_FLIGHT = 8
# A lane with nothing to do looks again this often (retries whose time has come,
# other processes' SQLite commits); a bell wakes it at once for new work.
POLL_SECONDS = {INTERACTIVE: 2.0, BULK: 5.0}
# A paced send that wakes this late for its slot books another (at most a few times).
LATE_FOR_SLOT = 0.02
MAX_REBOOKINGS = 3
# Reconciliation asks the provider about this many lost claims at a time.
LOOK_UPS_IN_FLIGHT = 8
# Past this, a shutdown gives in-flight claims back instead of waiting for them; with
# the web server's and the scheduler's own stops, `run` exits well within 30 s.
SHUTDOWN_GRACE = 15.0
# How often the opt-outs of the customers whose messages are claimed are read again:
# a STOP that arrives while a survey waits for its turn still stops it.
OPT_OUTS_FRESH_FOR = 0.25
# A claim given back for want of time waits this long before it is claimed again.
RELEASED_FOR = 1.0
# A lane that fails (the database went away) tries again after this, doubling, up to a minute.
RETRY_AFTER_FAILURE = 1.0


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class DrainReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    reconciled: Counter[str] = field(default_factory=Counter)

    def __getitem__(self, key: str) -> int:
        return self.outcomes[key]

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


@dataclass
class _Lane:
    name: str
    capacity: int  # requests in flight at once
    executor: ThreadPoolExecutor
    # Claimed messages, sending or about to: up to two batches, so the next claim's round
    # trip overlaps the sends of the one before.
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    in_flight: asyncio.Semaphore = field(init=False)
    pending: list[Outcome] = field(default_factory=list)
    slot_freed: asyncio.Event = field(default_factory=asyncio.Event)
    flushing: asyncio.Lock = field(default_factory=asyncio.Lock)
    flush_timer: asyncio.TimerHandle | None = None

    def __post_init__(self) -> None:
        self.in_flight = asyncio.Semaphore(self.capacity)


class Sender:
    """Drains the outbox of this database through `transports`. Create it on the network loop."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        transports: Transports,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        in_flight: int | None = None,
        interactive_in_flight: int = INTERACTIVE_IN_FLIGHT,
    ) -> None:
        self.factory, self.transports, self.settings, self.clock = (
            factory,
            transports,
            settings,
            clock,
        )
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.timeout = settings.provider_timeout
        # A safety net around a provider call, past the client's own timeouts (connect,
        # write, read, a pool wait); the lease (3 timeouts) outlasts it.
        self.call_limit = 2 * self.timeout
        self.lease = timedelta(seconds=settings.send_lease)
        self.report = DrainReport()
        self._lanes = {
            INTERACTIVE: _Lane(
                INTERACTIVE, interactive_in_flight, ThreadPoolExecutor(2, "outbox-interactive")
            ),
            BULK: _Lane(
                BULK, in_flight or settings.sends_in_flight, ThreadPoolExecutor(2, "outbox-bulk")
            ),
        }
        self._side = ThreadPoolExecutor(1, "outbox-budgets")
        self.budgets = Budgets(factory, self._side)
        self.bell = doorbell.Bell(LANES)
        self._stopping = asyncio.Event()
        self._producing = True
        self._chains: dict[tuple[str, str], asyncio.Future[None]] = {}
        self._in_call: set[int] = set()
        self._connected: set[str] = set()
        # Customers with claimed messages here, and which of them have opted out.
        self._claimed_customers: Counter[int] = Counter()
        self._opted_out: set[int] = set()
        self._opt_outs_read_at = -1.0
        self._reading_opt_outs: asyncio.Future[None] | None = None
        self._chores: set[asyncio.Future[None]] = set()

    # -- running -------------------------------------------------------------------------

    async def run(self) -> None:
        """Send until `stop()` (the `run` process): both lanes, the reconciler, NOTIFY."""
        doorbell.register(self.bell)
        helpers = [asyncio.create_task(self._reconcile_forever(), name="outbox-reconciler")]
        engine = self.factory.kw["bind"]
        if engine.dialect.name == "postgresql":
            url = engine.url.render_as_string(hide_password=False)
            helpers.append(
                asyncio.create_task(doorbell.listen(url, self.bell), name="outbox-listen")
            )
        try:
            await asyncio.gather(
                *(self._work(lane, until_idle=False) for lane in self._lanes.values())
            )
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            doorbell.unregister(self.bell)
            await self._finish()

    async def drain(self) -> DrainReport:
        """Send what is due, and return once nothing is left (commands and tests).

        While `producing()` has not been called with False, an empty queue means
        "wait for the pass to queue more", not "done".
        """
        doorbell.register(self.bell)
        try:
            await self.reconcile_once()
            await asyncio.gather(
                *(self._work(lane, until_idle=True) for lane in self._lanes.values())
            )
        finally:
            doorbell.unregister(self.bell)
            await self._finish()
        return self.report

    def producing(self, active: bool) -> None:
        """Whether a pass is still queuing work for `drain()` (call on the loop)."""
        self._producing = active
        self.bell.ring_all()

    def stop(self) -> None:
        """Stop claiming; what is in flight finishes (call on the loop)."""
        self._stopping.set()
        self.bell.ring_all()
        for lane in self._lanes.values():
            lane.slot_freed.set()

    async def shutdown(self, runner: asyncio.Task[Any], grace: float = SHUTDOWN_GRACE) -> None:
        """Stop `runner` (a task running `run()` or `drain()`) within `grace` seconds."""
        self.stop()
        done, _ = await asyncio.wait({runner}, timeout=grace)
        if not done:
            # Sends still waiting on the provider: cancel them; their claims are given back
            # (or reconciled, when the request had left) and the outcomes written.
            for lane in self._lanes.values():
                for task in list(lane.tasks):
                    task.cancel()
            await asyncio.wait({runner}, timeout=10)
        if runner.done() and not runner.cancelled() and runner.exception() is not None:
            log.error("the sender stopped with an error", exc_info=runner.exception())

    # -- a lane ------------------------------------------------------------------------------

    async def _work(self, lane: _Lane, *, until_idle: bool) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                if not await self._work_once(lane, until_idle):
                    return
                failures = 0
            except Exception:  # the database went away, most likely: never let a lane die
                failures += 1
                if until_idle and failures >= 5:
                    raise
                log.exception("outbox %s lane failed; trying again", lane.name)
                await asyncio.sleep(min(RETRY_AFTER_FAILURE * 2 ** (failures - 1), 60.0))

    async def _work_once(self, lane: _Lane, until_idle: bool) -> bool:
        """One step of a lane; False when a drain is done."""
        if len(lane.tasks) > lane.capacity:  # a whole batch is still waiting its turn
            lane.slot_freed.clear()
            await lane.slot_freed.wait()
            return True
        room = 2 * lane.capacity - len(lane.tasks)
        batch, stopped = await self._db(lane, self._claim, lane.name, room)
        if batch:
            self._start(lane, batch, stopped)
        elif until_idle and not self._producing:
            # Done once nothing is due, in flight or unwritten (writing may queue more:
            # a survey to a blocked Telegram chat goes again by SMS).
            if lane.tasks:
                await asyncio.wait(set(lane.tasks))
            elif lane.pending or lane.flushing.locked():
                await self._flush(lane)
            else:
                return False
        else:
            await self.bell.wait(lane.name, 0.5 if until_idle else POLL_SECONDS[lane.name])
        return True

    def _claim(self, lane: str, limit: int) -> tuple[list[Claimed], set[int]]:
        """Claim a batch, and learn in the same transaction who of its customers opted out."""
        claimed_at = utcnow()
        with self.factory.begin() as session:
            batch = claim(
                session,
                lane=lane,
                now=self.clock(),
                worker=self.worker,
                limit=limit,
                claimed_at=claimed_at,
                lease_until=claimed_at + self.lease,
            )
            customers = {m.customer_id for m in batch if m.customer_id is not None}
            stopped = opted_out(session, customers)
        # The call must start early enough to end (the safety net below) within the lease.
        margin = 0.1 * self.timeout
        start_by = claimed_at.timestamp() + self.lease.total_seconds() - self.call_limit - margin
        for message in batch:
            message.start_by = start_by
        return batch, stopped

    def _start(self, lane: _Lane, batch: list[Claimed], stopped: set[int]) -> None:
        for message in batch:
            if message.customer_id in stopped and message.purpose not in ALLOWED_AFTER_OPT_OUT:
                self._done(lane, Outcome(message, "cancelled", {"error": "customer opted out"}))
                continue
            if message.customer_id is not None:
                self._claimed_customers[message.customer_id] += 1
            task = asyncio.create_task(self._deliver(lane, message))
            lane.tasks.add(task)
            task.add_done_callback(functools.partial(self._task_done, lane))

    def _task_done(self, lane: _Lane, task: asyncio.Task[None]) -> None:
        lane.tasks.discard(task)
        lane.slot_freed.set()

    # -- one message -------------------------------------------------------------------------

    async def _deliver(self, lane: _Lane, message: Claimed) -> None:
        key = (message.channel, message.address)
        previous = self._chains.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._chains[key] = mine
        try:
            if previous is not None:
                # Two messages to one person go in the order they were queued.
                await asyncio.shield(previous)
            async with lane.in_flight:
                outcome = await self._attempt(message)
        except asyncio.CancelledError:
            kind = "abandoned" if message.id in self._in_call else "released"
            outcome = Outcome(message, kind, {"due": self.clock()})
        except Exception:  # the budgets' database, say: give the claim back, not lose it
            log.exception("sending message %s failed before the provider was asked", message.id)
            outcome = Outcome(message, "released", {"due": self.clock() + timedelta(seconds=30)})
        finally:
            self._in_call.discard(message.id)
            mine.set_result(None)
            if self._chains.get(key) is mine:
                del self._chains[key]
            if message.customer_id is not None:
                self._claimed_customers[message.customer_id] -= 1
                if self._claimed_customers[message.customer_id] <= 0:
                    del self._claimed_customers[message.customer_id]
        self._done(lane, outcome)

    async def _attempt(self, message: Claimed) -> Outcome:
        transport = self.transports.get(message.channel)
        limits = transport.limits(message.address)
        if limits and transport.name not in self._connected:
            try:
                await transport.connect()  # not on a booked slot's time: it would be late
            except SendError as error:
                return self._failure(message, error, transport.can_look_up)
            self._connected.add(transport.name)
        for _ in range(MAX_REBOOKINGS):
            try:
                at = await self.budgets.when(limits, deadline=message.start_by)
            except Paused as paused:
                PAUSED.labels(paused.key).inc()
                return self._release_until(message, paused.until)
            except NoSlotInTime as busy:  # it would outlive its lease waiting: give it back
                return self._release_until(message, busy.at)
            if (wait := at - time.time()) > 0:
                await asyncio.sleep(wait)
            # Woken well after its slot (the loop was busy), it would go out together with
            # the sends of the next slots, over the provider's rate: book a fresh slot.
            if not at or time.time() - at < LATE_FOR_SLOT:
                break
        if self._stopping.is_set():
            return self._release_until(message, time.time())  # the next process sends it
        if time.time() > message.start_by:
            return self._release_until(message, time.time() + RELEASED_FOR)  # too late now
        if await self._opted_out_meanwhile(message):
            return Outcome(message, "cancelled", {"error": "customer opted out"})
        self._in_call.add(message.id)
        IN_FLIGHT.labels(message.channel).inc()
        started = time.perf_counter()
        try:
            # The channel's own client timeouts come first; this is the safety net.
            async with asyncio.timeout(self.call_limit):
                buttons = buttons_from_json(message.buttons) if transport.shows_buttons else None
                result = await transport.send(message.address, message.body, buttons)
        except SendError as error:
            if error.throttled and limits:
                THROTTLED.labels(limits[0].key).inc()
                await self.budgets.pause(limits[0].key, error.retry_after or 1.0)
            return self._failure(message, error, transport.can_look_up)
        except TimeoutError:
            late = SendError("no answer from the provider in time", permanent=False, uncertain=True)
            return self._failure(message, late, transport.can_look_up)
        except Exception as error:  # a bug in a transport must not lose the message
            log.exception("transport %s crashed sending message %s", message.channel, message.id)
            return Outcome(
                message,
                "retry",
                {
                    "error": repr(error)[:500],
                    "next_attempt_at": self.clock() + backoff(message.attempts),
                },
            )
        finally:
            IN_FLIGHT.labels(message.channel).dec()
            SEND_SECONDS.labels(message.channel).observe(time.perf_counter() - started)
        return Outcome(message, "sent", {"provider_id": result.provider_id})

    async def _opted_out_meanwhile(self, message: Claimed) -> bool:
        """Whether the customer opted out since the claim (read for all claims, 4 times a second)."""
        if message.customer_id is None or message.purpose in ALLOWED_AFTER_OPT_OUT:
            return False
        if time.monotonic() - self._opt_outs_read_at > OPT_OUTS_FRESH_FOR:
            if self._reading_opt_outs is None:
                self._reading_opt_outs = asyncio.ensure_future(self._read_opt_outs())
            await asyncio.shield(self._reading_opt_outs)
        return message.customer_id in self._opted_out

    async def _read_opt_outs(self) -> None:
        try:
            customers = set(self._claimed_customers)
            read_at = time.monotonic()
            self._opted_out = await self._db(
                self._lanes[INTERACTIVE], self._opted_out_of, customers
            )
            self._opt_outs_read_at = read_at
        finally:
            self._reading_opt_outs = None

    def _opted_out_of(self, customers: set[int]) -> set[int]:
        with self.factory() as session:
            return opted_out(session, customers)

    def _release_until(self, message: Claimed, unix_time: float) -> Outcome:
        # Pauses are on the real clock; the message's due time is on the pass's clock.
        due = self.clock() + timedelta(seconds=max(0.0, unix_time - time.time()))
        return Outcome(message, "released", {"due": due})

    def _failure(self, message: Claimed, error: SendError, can_look_up: bool) -> Outcome:
        values: dict[str, Any] = {"error": str(error), "error_code": error.code}
        if error.uncertain:
            if can_look_up:
                values["look_up_after"] = timedelta(seconds=self.timeout)
            return Outcome(message, "uncertain", values)
        if error.unreachable:
            return Outcome(message, "unreachable", values)
        if error.permanent or message.attempts >= MAX_ATTEMPTS:
            return Outcome(message, "failed", values)
        pause = (
            timedelta(seconds=error.retry_after) if error.retry_after else backoff(message.attempts)
        )
        values["next_attempt_at"] = self.clock() + pause
        return Outcome(message, "retry", values)

    # -- recording ---------------------------------------------------------------------------

    def _done(self, lane: _Lane, outcome: Outcome) -> None:
        lane.pending.append(outcome)
        self.report.outcomes[outcome.kind] += 1
        if len(lane.pending) >= RECORD_EVERY:
            self._background(self._flush(lane))
        else:
            self._schedule_flush(lane)

    def _schedule_flush(self, lane: _Lane) -> None:
        if lane.flush_timer is None:
            lane.flush_timer = asyncio.get_running_loop().call_later(
                RECORD_AFTER, lambda: self._background(self._flush(lane))
            )

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` without waiting for it, keeping a reference until it is done."""
        task = asyncio.ensure_future(work)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def _flush(self, lane: _Lane) -> None:
        async with lane.flushing:
            if lane.flush_timer is not None:
                lane.flush_timer.cancel()
                lane.flush_timer = None
            outcomes, lane.pending = lane.pending, []
            if not outcomes:
                return
            try:
                await self._db(lane, self._record, outcomes)
            except Exception:
                # Keep them: they are written with the next batch (claims not written stay
                # leased, and reconciliation settles them if this process never manages).
                log.exception("writing %d outcomes failed; keeping them", len(outcomes))
                lane.pending[:0] = outcomes
                await asyncio.sleep(RETRY_AFTER_FAILURE)
                self._schedule_flush(lane)

    def _record(self, outcomes: list[Outcome]) -> None:
        with self.factory.begin() as session:
            record(session, self.clock(), utcnow(), self.worker, outcomes, self.settings.default_tz)

    async def _finish(self) -> None:
        for lane in self._lanes.values():
            if lane.tasks:
                await asyncio.wait(set(lane.tasks))
            if self._chores:
                await asyncio.wait(set(self._chores))
            await self._flush(lane)

    # -- reconciliation ------------------------------------------------------------------------

    async def _reconcile_forever(self) -> None:
        while True:
            try:
                await self.reconcile_once()
            except Exception:  # the database: the next round tries again
                log.exception("outbox reconciliation failed")
            await asyncio.sleep(max(self.lease.total_seconds() / 3, 1.0))

    async def reconcile_once(self) -> None:
        """Settle every claim whose lease has run out (one batch at a time)."""
        lane = self._lanes[BULK]
        # A provider limits concurrent requests per account too; a crash can leave
        # hundreds of claims to look up, so only a few questions at a time.
        asking = asyncio.Semaphore(LOOK_UPS_IN_FLIGHT)

        async def look_up(lost: Lost) -> Finding:
            async with asking:
                return await self._look_up(lost)

        await self._db(lane, self._adopt_older_versions)
        # A batch small enough that its look-ups end well within the lease it takes.
        batch = 2 * LOOK_UPS_IN_FLIGHT
        while lost := await self._db(lane, self._take_lost, batch):
            findings = await asyncio.gather(*(look_up(item) for item in lost))
            counts = await self._db(lane, self._settle, list(findings))
            for outcome, count in counts.items():
                self.report.reconciled[outcome] += count
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
            return settle(session, self.clock(), self.worker, findings, self.settings.default_tz)

    # -- plumbing --------------------------------------------------------------------------------

    async def _db(self, lane: _Lane, function: Callable[..., T], *args: Any) -> T:
        """Run blocking database work on the lane's own threads, never on the loop."""
        return await asyncio.get_running_loop().run_in_executor(lane.executor, function, *args)

    def close(self) -> None:
        for lane in self._lanes.values():
            lane.executor.shutdown(wait=False)
        self._side.shutdown(wait=False)
