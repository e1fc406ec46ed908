"""A lane's own state in one sender (claims in flight, outcomes to write), and the report."""

from __future__ import annotations

import asyncio
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from messaging.outbox.record import Outcome


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
class Lane:
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
