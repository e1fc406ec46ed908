"""The sender: two lanes of concurrent sends on the loop that owns the network.

Each lane has its own worker, its own claim, its own bound on requests in
flight, its own database thread and its own bell: the interactive lane
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from messaging.channels import Transports, registry
from messaging.channels.base import ErrorKind, SendError, buttons_from_json
from messaging.outbox import doorbell
from messaging.outbox.budgets import Budgets, NoSlotInTime, Paused
from messaging.outbox.claims import Claimed, claim, opted_out
from messaging.outbox.failures import backoff, failure
from messaging.outbox.lanes import DrainReport, Lane
from messaging.outbox.metrics import IN_FLIGHT, PAUSED, SEND_SECONDS, THROTTLED
from messaging.outbox.opt_out_watch import ALLOWED_AFTER_OPT_OUT, OptOutWatch
from messaging.outbox.queue import BULK, INTERACTIVE, LANES
from messaging.outbox.reconciler import Reconciler
from messaging.outbox.record import Outcome, OutcomeKind, record
from messaging.outbox.recorder import Recorder
from messaging.outbox.reply_to import add_reply_to, envelope, reply_to_channels
from settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Requests in flight reserved for the interactive lane, on top of the bulk lane's.
INTERACTIVE_IN_FLIGHT = 8
# A lane with nothing to do looks again this often (retries whose time has come,
# other processes' SQLite commits); a bell wakes it at once for new work.
POLL_SECONDS = {INTERACTIVE: 2.0, BULK: 5.0}
# A paced send that wakes this late for its slot books another (at most a few times).
LATE_FOR_SLOT = 0.02
MAX_REBOOKINGS = 3
# Past this, a shutdown gives in-flight claims back instead of waiting for them; with
# the web server's and the scheduler's own stops, `run` exits well within 30 s.
SHUTDOWN_GRACE = 15.0
# A claim given back for want of time waits this long before it is claimed again.
RELEASED_FOR = 1.0
# A lane that fails (the database went away) tries again after this, doubling, up to a minute.
RETRY_AFTER_FAILURE = 1.0


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
        # One database thread a lane: its claims and writes take turns (a few ms each); a
        # second thread only added GIL and connection contention (docs/BENCHMARKS.md).
        self._lanes = {
            INTERACTIVE: Lane(
                INTERACTIVE, interactive_in_flight, ThreadPoolExecutor(1, "outbox-interactive")
            ),
            BULK: Lane(
                BULK, in_flight or settings.sends_in_flight, ThreadPoolExecutor(1, "outbox-bulk")
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
        self._reply_to_channels = reply_to_channels(transports)
        self.opt_outs = OptOutWatch(self._read_opt_outs)
        self.reconciler = Reconciler(
            factory,
            transports,
            functools.partial(self._db, self._lanes[BULK]),
            worker=self.worker,
            lease=self.lease,
            call_limit=self.call_limit,
            clock=clock,
            default_tz=settings.default_tz,
            counts=self.report.reconciled,
        )
        self.recorder = Recorder(self._db, self._record_now, self.report, RETRY_AFTER_FAILURE)

    # -- running -------------------------------------------------------------------------

    async def run(self) -> None:
        """Send until `stop()` (the `run` process): both lanes, the reconciler, NOTIFY."""
        doorbell.register(self.bell)
        helpers = [asyncio.create_task(self.reconciler.forever(), name="outbox-reconciler")]
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
            await self.reconciler.once()
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

    async def _work(self, lane: Lane, *, until_idle: bool) -> None:
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

    async def _work_once(self, lane: Lane, until_idle: bool) -> bool:
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
                await self.recorder.flush(lane)
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
            add_reply_to(session, batch, self._reply_to_channels)
        # The call must start early enough to end (the safety net below) within the lease.
        margin = 0.1 * self.timeout
        start_by = claimed_at.timestamp() + self.lease.total_seconds() - self.call_limit - margin
        for message in batch:
            message.start_by = start_by
        return batch, stopped

    def _start(self, lane: Lane, batch: list[Claimed], stopped: set[int]) -> None:
        for message in batch:
            if message.customer_id in stopped and message.purpose not in ALLOWED_AFTER_OPT_OUT:
                self.recorder.done(
                    lane, Outcome(message, OutcomeKind.CANCELLED, error="customer opted out")
                )
                continue
            self.opt_outs.claimed(message)
            task = asyncio.create_task(self._deliver(lane, message))
            lane.tasks.add(task)
            task.add_done_callback(functools.partial(self._task_done, lane))

    def _task_done(self, lane: Lane, task: asyncio.Task[None]) -> None:
        lane.tasks.discard(task)
        lane.slot_freed.set()

    # -- one message -------------------------------------------------------------------------

    async def _deliver(self, lane: Lane, message: Claimed) -> None:
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
            kind = OutcomeKind.ABANDONED if message.id in self._in_call else OutcomeKind.RELEASED
            outcome = Outcome(message, kind, when=self.clock())
        except Exception:  # the budgets' database, say: give the claim back, not lose it
            log.exception("sending message %s failed before the provider was asked", message.id)
            outcome = Outcome(
                message, OutcomeKind.RELEASED, when=self.clock() + timedelta(seconds=30)
            )
        finally:
            self._in_call.discard(message.id)
            mine.set_result(None)
            if self._chains.get(key) is mine:
                del self._chains[key]
            self.opt_outs.settled(message)
        self.recorder.done(lane, outcome)

    async def _attempt(self, message: Claimed) -> Outcome:
        transport = self.transports.get(message.channel)
        limits = transport.limits(message.address)
        if limits and transport.name not in self._connected:
            try:
                await transport.connect()  # not on a booked slot's time: it would be late
            except SendError as error:
                return failure(message, error, transport.can_look_up, self.clock(), self.timeout)
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
        if await self.opt_outs.opted_out_meanwhile(message):
            return Outcome(message, OutcomeKind.CANCELLED, error="customer opted out")
        self._in_call.add(message.id)
        IN_FLIGHT.labels(message.channel).inc()
        started = time.perf_counter()
        try:
            # The channel's own client timeouts come first; this is the safety net.
            async with asyncio.timeout(self.call_limit):
                shown = registry.buttons_shown(message.channel, self.transports)
                buttons = buttons_from_json(message.buttons) if shown else None
                extra = envelope(transport, message)
                result = await transport.send(message.address, message.body, buttons, **extra)
        except SendError as error:
            if error.throttled and limits:
                THROTTLED.labels(limits[0].key).inc()
                await self.budgets.pause(limits[0].key, error.retry_after or 1.0)
            return failure(message, error, transport.can_look_up, self.clock(), self.timeout)
        except TimeoutError:
            late = SendError("no answer from the provider in time", ErrorKind.UNCERTAIN)
            return failure(message, late, transport.can_look_up, self.clock(), self.timeout)
        except Exception as error:  # a bug in a transport must not lose the message
            log.exception("transport %s crashed sending message %s", message.channel, message.id)
            return Outcome(
                message,
                OutcomeKind.RETRY,
                error=repr(error)[:500],
                when=self.clock() + backoff(message.attempts),
            )
        finally:
            IN_FLIGHT.labels(message.channel).dec()
            SEND_SECONDS.labels(message.channel).observe(time.perf_counter() - started)
        return Outcome(message, OutcomeKind.SENT, provider_id=result.provider_id)

    def _release_until(self, message: Claimed, unix_time: float) -> Outcome:
        # Pauses are on the real clock; the message's due time is on the pass's clock.
        due = self.clock() + timedelta(seconds=max(0.0, unix_time - time.time()))
        return Outcome(message, OutcomeKind.RELEASED, when=due)

    async def _finish(self) -> None:
        for lane in self._lanes.values():
            if lane.tasks:
                await asyncio.wait(set(lane.tasks))
            await self.recorder.chores_done()
            await self.recorder.flush(lane)

    async def reconcile_once(self) -> None:
        """Settle every claim whose lease has run out (commands and tests)."""
        await self.reconciler.once()

    async def _read_opt_outs(self, customers: set[int]) -> set[int]:
        return await self._db(self._lanes[INTERACTIVE], self._opted_out_of, customers)

    def _opted_out_of(self, customers: set[int]) -> set[int]:
        with self.factory() as session:
            return opted_out(session, customers)

    def _record_now(self, outcomes: list[Outcome]) -> None:
        with self.factory.begin() as session:
            record(session, self.clock(), utcnow(), self.worker, outcomes, self.settings.default_tz)

    # -- plumbing --------------------------------------------------------------------------------

    async def _db(self, lane: Lane, function: Callable[..., T], *args: Any) -> T:
        """Run blocking database work on the lane's own threads, never on the loop."""
        return await asyncio.get_running_loop().run_in_executor(lane.executor, function, *args)

    def close(self) -> None:
        for lane in self._lanes.values():
            lane.executor.shutdown(wait=False)
        self._side.shutdown(wait=False)
