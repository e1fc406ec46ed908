"""Provider budgets shared by every process: pacing, and the provider's own pauses.

Pacing is GCRA (the "virtual scheduling" form of a token bucket): each budget
has a next free slot; booking k slots at `per_second` hands out the times
slot, slot + 1/rate, ... and moves the slot on. Slots are booked in the
database, so four processes together keep to Telegram's 30 a second exactly
as one would, and a process books many at a time, so pacing costs one round
trip per batch rather than per message. A 429 pauses the sender for every
process until the time the provider asked for.

Times here are Unix seconds of the real clock: they pace real requests.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from messaging.channels.base import Limit
from models import SendBudget

T = TypeVar("T")

# How far ahead a process may book: enough to batch, short enough to share fairly.
HORIZON = 2.0
# How often a process re-reads the pauses other processes set.
PAUSES_FRESH_FOR = 0.25


class Paused(Exception):
    """The sender is paused (a 429) until `until` (Unix seconds)."""

    def __init__(self, key: str, until: float) -> None:
        super().__init__(f"{key} paused by the provider")
        self.key, self.until = key, until


class NoSlotInTime(Exception):
    """The budget has no slot before the message's deadline; the next is at `at`."""

    def __init__(self, key: str, at: float) -> None:
        super().__init__(f"{key}: no slot in time")
        self.key, self.at = key, at


# -- the database side ------------------------------------------------------------------


def _ensure(session: Session, keys: list[str]) -> None:
    # A write first: on SQLite it takes the write lock, so the read below is serialised too.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(SendBudget)
        .values([{"key": key, "next_slot": 0.0} for key in keys])
        .on_conflict_do_nothing()
    )


def book(
    session: Session, wants: dict[str, tuple[float, int, float]], now: float
) -> dict[str, tuple[list[float], float]]:
    """Book up to `count` slots at `per_second` for each key ({key: (per_second, count, horizon)}).

    Returns {key: (slots, next free slot)}. A key books no further ahead than its
    `horizon` (the deadline of the messages asking, at most HORIZON), so it may get
    fewer slots than asked, or none: a slot nobody can use is never taken, or the
    budget would run ahead of real time.
    """
    keys = sorted(wants)  # one lock order for every process
    _ensure(session, keys)
    rows = session.execute(
        select(SendBudget.key, SendBudget.next_slot)
        .where(SendBudget.key.in_(keys))
        .order_by(SendBudget.key)
        .with_for_update()
    ).all()
    granted: dict[str, tuple[list[float], float]] = {}
    moved = []
    for key, next_slot in rows:
        per_second, count, horizon = wants[key]
        interval = 1.0 / per_second
        first = max(next_slot, now)
        room = math.floor((now + horizon - first) / interval) + 1 if horizon >= 0 else 0
        k = max(0, min(count, room))
        granted[key] = ([first + i * interval for i in range(k)], first + k * interval)
        if k:
            moved.append({"budget": key, "slot": first + k * interval})
    if moved:
        session.connection().execute(
            update(SendBudget)
            .where(SendBudget.key == bindparam("budget"))
            .values(next_slot=bindparam("slot")),
            moved,
        )
    return granted


def pause(session: Session, key: str, until: float) -> None:
    """Pause `key` for every process until `until`, unless it is paused longer already."""
    _ensure(session, [key])
    session.execute(
        update(SendBudget)
        .where(
            SendBudget.key == key,
            (SendBudget.paused_until.is_(None)) | (SendBudget.paused_until < until),
        )
        .values(paused_until=until),
        execution_options={"synchronize_session": False},
    )


def pauses(session: Session, now: float) -> dict[str, float]:
    """The pauses in force: {key: until}."""
    rows = session.execute(
        select(SendBudget.key, SendBudget.paused_until).where(SendBudget.paused_until > now)
    ).all()
    return {key: until for key, until in rows if until is not None}


# -- the process side ----------------------------------------------------------------------


class Budgets:
    """This process's view of the shared budgets, on the network loop.

    Database work runs on `executor`; concurrent requests for slots are booked
    together in one transaction.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        executor: Executor,
        *,
        clock: Callable[[], float] = time.time,
        horizon: float = HORIZON,
    ) -> None:
        self.factory, self.executor, self.clock, self.horizon = factory, executor, clock, horizon
        self._slots: dict[str, deque[float]] = {}
        # Slots asked for since the last booking: {key: (per second, how many, latest deadline)}.
        self._demand: dict[str, tuple[float, int, float]] = {}
        self._round: asyncio.Future[dict[str, float]] | None = None
        self._paused: dict[str, float] = {}
        self._pauses_read_at = -math.inf
        self._reading: asyncio.Future[None] | None = None

    async def when(self, limits: tuple[Limit, ...], deadline: float = math.inf) -> float:
        """The Unix time at which a message spending `limits` may go, no later than `deadline`.

        Raises `Paused` while a sender is paused, `NoSlotInTime` when the budget has no
        slot before the deadline.
        """
        if not limits:
            return 0.0
        await self._fresh_pauses()
        now = self.clock()
        for limit in limits:
            until = self._paused.get(limit.key, 0.0)
            if until > now:
                raise Paused(limit.key, until)
        at = 0.0
        for limit in limits:
            if limit.per_second:
                at = max(at, await self._slot(limit.key, limit.per_second, deadline))
        return at

    async def pause(self, key: str, seconds: float) -> None:
        """A provider said 429: pause `key` here at once, and for every process."""
        until = self.clock() + max(seconds, 0.0)
        self._paused[key] = max(self._paused.get(key, 0.0), until)
        await self._run(self._write_pause, key, until)

    def _write_pause(self, key: str, until: float) -> None:
        with self.factory.begin() as session:
            pause(session, key, until)

    async def _fresh_pauses(self) -> None:
        if self.clock() - self._pauses_read_at < PAUSES_FRESH_FOR:
            return
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read_pauses())
        await asyncio.shield(self._reading)

    async def _read_pauses(self) -> None:
        try:
            now = self.clock()
            shared = await self._run(self._load_pauses, now)
            # Our own fresh pause may not be in the database yet: keep the longer one.
            self._paused = {
                key: max(until, shared.get(key, 0.0))
                for key, until in self._paused.items()
                if until > now
            } | {key: until for key, until in shared.items() if key not in self._paused}
            self._pauses_read_at = now
        finally:
            self._reading = None

    def _load_pauses(self, now: float) -> dict[str, float]:
        with self.factory() as session:
            return pauses(session, now)

    async def _slot(self, key: str, per_second: float, deadline: float) -> float:
        queue = self._slots.setdefault(key, deque())
        while True:
            if queue:
                if queue[0] > deadline:
                    raise NoSlotInTime(key, queue[0])  # it stays for a later message
                return queue.popleft()
            _, count, latest = self._demand.get(key, (per_second, 0, 0.0))
            self._demand[key] = (per_second, count + 1, max(latest, deadline))
            if self._round is None:
                self._round = asyncio.ensure_future(self._book_round())
            next_free = await asyncio.shield(self._round)
            if not queue and key in next_free:
                ask_again = next_free[key] - self.horizon
                if next_free[key] > deadline:
                    raise NoSlotInTime(key, next_free[key])
                await asyncio.sleep(max(0.0, ask_again - self.clock()))

    async def _book_round(self) -> dict[str, float]:
        """Book everything asked for so far in one transaction; {key: next free slot} for
        the keys that got nothing."""
        try:
            await asyncio.sleep(0)  # let the sends started in this tick add their demand
            demand, self._demand = self._demand, {}
            now = self.clock()
            wants = {
                key: (rate, count, min(self.horizon, latest - now))
                for key, (rate, count, latest) in demand.items()
            }
            granted = await self._run(self._book, wants, now)
            next_free: dict[str, float] = {}
            for key, (slots, next_slot) in granted.items():
                self._slots.setdefault(key, deque()).extend(slots)
                if not slots:
                    next_free[key] = next_slot
            return next_free
        finally:
            self._round = None

    def _book(
        self, wants: dict[str, tuple[float, int, float]], now: float
    ) -> dict[str, tuple[list[float], float]]:
        with self.factory.begin() as session:
            return book(session, wants, now)

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)
