"""Provider budgets shared through the database: GCRA pacing, horizons and pauses."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.orm import Session, sessionmaker

from messaging.channels.base import Limit
from messaging.outbox.budgets import Budgets, NoSlotInTime, Paused, book, pause, pauses

T = 1_000_000.0  # a Unix time


def booked(db: sessionmaker[Session], wants, now: float, horizon: float = 2.0):
    with db.begin() as session:
        return book(session, {k: (rate, n, horizon) for k, (rate, n) in wants.items()}, now)


def test_slots_are_spaced_at_the_rate_and_the_next_booking_carries_on(db) -> None:
    slots, after = booked(db, {"telegram:1": (10.0, 3)}, T)["telegram:1"]
    assert slots == pytest.approx([T, T + 0.1, T + 0.2]) and after == pytest.approx(T + 0.3)
    # Another process, a moment later, gets the slots after those.
    slots, _ = booked(db, {"telegram:1": (10.0, 2)}, T + 0.05)["telegram:1"]
    assert slots == pytest.approx([T + 0.3, T + 0.4])


def test_nobody_books_further_ahead_than_the_horizon(db) -> None:
    slots, _ = booked(db, {"chat": (1.0, 10)}, T, horizon=2.0)["chat"]
    assert slots == pytest.approx([T, T + 1, T + 2])
    slots, after = booked(db, {"chat": (1.0, 1)}, T + 0.5, horizon=2.0)["chat"]
    assert slots == [] and after == pytest.approx(T + 3)  # ask again at T + 1


def test_an_idle_budget_does_not_save_up_a_burst(db) -> None:
    booked(db, {"telegram:1": (30.0, 1)}, T)
    slots, _ = booked(db, {"telegram:1": (30.0, 3)}, T + 60)["telegram:1"]
    assert slots == pytest.approx([T + 60, T + 60 + 1 / 30, T + 60 + 2 / 30])


def test_keys_are_booked_together_and_apart(db) -> None:
    granted = booked(db, {"a": (1.0, 1), "b": (2.0, 2)}, T)
    assert granted["a"][0] == pytest.approx([T]) and granted["b"][0] == pytest.approx([T, T + 0.5])


def test_a_pause_holds_for_everyone_and_the_longer_one_wins(db) -> None:
    with db.begin() as session:
        pause(session, "sms:+15005550006", T + 30)
        pause(session, "sms:+15005550006", T + 10)  # a shorter one does not cut it short
    with db() as session:
        assert pauses(session, T) == {"sms:+15005550006": pytest.approx(T + 30)}
        assert pauses(session, T + 31) == {}


async def test_two_processes_sending_to_one_bot_never_share_a_slot(db) -> None:
    with ThreadPoolExecutor(2) as executor:
        clock = lambda: T  # noqa: E731 - a frozen clock: no real waiting
        first, second = Budgets(db, executor, clock=clock), Budgets(db, executor, clock=clock)
        limits = (Limit("telegram:1", 30.0),)
        times = await asyncio.gather(*(b.when(limits) for b in [first, second] * 20))
    assert len(set(times)) == 40
    assert sorted(times) == pytest.approx([T + i / 30 for i in range(40)])


async def test_a_paused_sender_is_refused_and_says_until_when(db) -> None:
    with ThreadPoolExecutor(1) as executor:
        here = Budgets(db, executor, clock=lambda: T)
        await here.pause("sms:+1", 5)
        elsewhere = Budgets(db, executor, clock=lambda: T + 1)
        with pytest.raises(Paused) as paused:
            await elsewhere.when((Limit("sms:+1"),))
        assert paused.value.until == pytest.approx(T + 5)
        assert await elsewhere.when((Limit("sms:+2"),)) == 0.0  # other senders are not paused


async def test_a_message_that_cannot_go_before_its_deadline_takes_no_slot(db) -> None:
    with ThreadPoolExecutor(1) as executor:
        budgets = Budgets(db, executor, clock=lambda: T)
        limits = (Limit("chat", 1.0),)
        assert await budgets.when(limits, deadline=T + 0.5) == pytest.approx(T)
        with pytest.raises(NoSlotInTime) as busy:
            await budgets.when(limits, deadline=T + 0.5)  # the next is at T + 1
        assert busy.value.at == pytest.approx(T + 1)
        # Nothing was spent on it: the next message with time to wait gets T + 1.
        assert await budgets.when(limits, deadline=T + 5) == pytest.approx(T + 1)
