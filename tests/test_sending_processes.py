"""Several `bot.py` processes on one database: shared budgets, shared pauses, kill -9, SIGTERM.

Each test starts real processes against the fake Twilio or Telegram running in
this one, and checks what the fake received: every survey exactly once, and
within the providers' limits.
"""

from __future__ import annotations

import bisect
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from models import CheckIn, Message, SendBudget
from tests.sending_support import (
    NOW,
    ROOT,
    bot,
    bot_environment,
    due_surveys,
    phone_of,
    queued_surveys,
    tick,
)

pytest_plugins = ["tests.conftest_channels"]


def finish(*workers: subprocess.Popen[str], timeout: float = 120) -> list[str]:
    """Wait for `workers`; each must exit 0. Returns their standard output."""
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=timeout)
        assert worker.returncode == 0, err[-2000:]
        outputs.append(out)
    return outputs


def sent_by(output: str) -> int:
    """How many messages a tick's summary says it sent."""
    found = re.search(r"messages:.*?\bsent (\d+)", output)
    return int(found[1]) if found else 0


def statuses(session: Session) -> Counter[str]:
    session.expire_all()
    rows = session.execute(
        select(Message.status, func.count())
        .where(Message.direction == "out")
        .group_by(Message.status)
    ).all()
    return Counter(dict(rows))


def test_two_processes_together_keep_to_telegrams_30_a_second(
    db, database_url, fake_telegram
) -> None:
    count = 90
    due_surveys(db, count, telegram_from=5000)
    # Few in flight, so each process claims a little at a time and both keep sending.
    environment = bot_environment(
        database_url, telegram=fake_telegram, AFTERCARE_SENDS_IN_FLIGHT="4"
    )

    outputs = finish(tick(environment), tick(environment))

    sends = sorted(e["at"] for e in fake_telegram.sent if e["method"] == "sendMessage")
    assert len(sends) == count
    assert {e["chat_id"] for e in fake_telegram.sent} == {5000 + n for n in range(count)}
    # Paced at 30 a second between them: the whole run takes as long as that allows...
    assert sends[-1] - sends[0] >= (count - 1) / 30 - 0.15
    # ...and any one second holds 30, give or take a send that woke late and went with the
    # next (arrivals jitter; python-telegram-bot's own limiter allows bursts of 30 on top).
    busiest = max(bisect.bisect_right(sends, at + 1.0) - i for i, at in enumerate(sends))
    assert busiest <= 33
    assert all(sent_by(out) > 0 for out in outputs)  # both processes sent their share
    assert sum(sent_by(out) for out in outputs) == count


def test_a_429_seen_by_one_process_pauses_the_other(db, session, database_url, fake_twilio) -> None:
    count = 200
    due_surveys(db, count)
    fake_twilio.latency = 0.1  # 4 in flight each: at most ~80 a second between them
    environment = bot_environment(database_url, twilio=fake_twilio, AFTERCARE_SENDS_IN_FLIGHT="4")
    workers = [tick(environment), tick(environment)]
    fake_twilio.wait_for(lambda: len(fake_twilio.messages) >= 20, timeout=60)
    fake_twilio.fail_next(status=429, retry_after=60)

    finish(*workers)

    assert fake_twilio.accepted_before_failure is not None
    after = len(fake_twilio.messages) - fake_twilio.accepted_before_failure
    # Only what was already on its way got through: without the shared pause the other
    # process would have sent on, well over a hundred more.
    assert after < 60, after
    counts = statuses(session)
    assert (
        counts["sent"] == len(fake_twilio.messages) and counts["queued"] == count - counts["sent"]
    )
    waiting = session.scalars(select(Message.next_attempt_at).where(Message.status == "queued"))
    assert min(waiting) >= NOW + timedelta(seconds=45)  # due again once the pause is over
    [paused_until] = session.scalars(select(SendBudget.paused_until)).all()
    assert paused_until is not None and paused_until > time.time() + 45


def settled(session: Session, count: int) -> bool:
    """Whether all `count` surveys are sent and no message is queued, claimed, or waiting
    for a look-up at Twilio (an uncertain send)."""
    session.expire_all()
    sent = session.scalar(select(func.count(CheckIn.id)).where(CheckIn.status == "sent"))
    waiting = session.scalar(
        select(func.count(Message.id)).where(
            Message.status.in_(("queued", "sending"))
            | ((Message.status == "uncertain") & Message.lease_until.is_not(None))
        )
    )
    return sent == count and waiting == 0


def test_killing_senders_at_random_still_sends_every_survey_exactly_once(
    db, session, database_url, fake_twilio
) -> None:
    count = 2000
    due_surveys(db, count)
    fake_twilio.latency = 0.1
    # A short provider timeout makes leases short (3 s), so reconciliation runs in the test.
    environment = bot_environment(
        database_url,
        twilio=fake_twilio,
        AFTERCARE_SENDS_IN_FLIGHT="8",
        AFTERCARE_PROVIDER_TIMEOUT="1",
    )
    rng = random.Random(20261201)
    workers = [tick(environment) for _ in range(3)]
    kills, deadline = 0, time.monotonic() + 150
    while not settled(session, count) and time.monotonic() < deadline:
        time.sleep(rng.uniform(1.0, 2.0))
        alive = [w for w in workers if w.poll() is None]
        if alive and kills < 8:
            os.killpg(rng.choice(alive).pid, signal.SIGKILL)  # mid-plan, mid-claim or mid-send
            kills += 1
        workers = [w for w in workers if w.poll() is None]
        workers += [tick(environment) for _ in range(3 - len(workers))]
    for worker in workers:
        worker.wait(timeout=60)
    # As cron would: later passes, until the last leases and look-ups are settled. Each is
    # later on the pass's clock too, so a send retried after a transient error (30 s, then
    # 1, 2, 4 ... minutes on) comes due; at the frozen NOW it never would.
    for minutes in (0, 2, 8, 30, 64):
        if settled(session, count):
            break
        time.sleep(3.2)
        finish(tick(environment, NOW + timedelta(minutes=minutes)))

    assert kills == 8
    assert settled(session, count), (
        statuses(session),
        Counter(session.scalars(select(CheckIn.status))),
        session.execute(
            select(CheckIn.status, CheckIn.reason, CheckIn.not_before)
            .where(CheckIn.status != "sent")
            .limit(3)
        ).all(),
        session.execute(
            select(Message.status, Message.attempts, Message.next_attempt_at, Message.error)
            .where(Message.status != "sent")
            .limit(3)
        ).all(),
    )
    received = Counter(m["to"] for m in fake_twilio.messages)
    assert set(received) == {phone_of(n) for n in range(count)}
    assert [to for to, times in received.items() if times > 1] == []  # no duplicates
    session.expire_all()
    checkins = Counter(session.scalars(select(CheckIn.status)))
    assert checkins == {"sent": count}
    assert statuses(session) == {"sent": count}
    assert session.scalar(select(func.count(Message.id)).where(Message.provider_id.is_(None))) == 0
    # The killed processes' claims were settled by asking Twilio, not by sending blindly.
    reconciled = Counter(
        session.scalars(select(Message.reconciliation).where(Message.reconciliation.is_not(None)))
    )
    assert reconciled["found"] + reconciled["resent"] > 0 and reconciled["resent_blind"] == 0


def test_sigterm_stops_a_tick_within_30_seconds_and_the_next_pass_finishes(
    db, session, database_url, fake_twilio
) -> None:
    count = 300
    due_surveys(db, count)
    fake_twilio.latency = 0.3
    environment = bot_environment(database_url, twilio=fake_twilio, AFTERCARE_SENDS_IN_FLIGHT="4")
    worker = tick(environment)
    fake_twilio.wait_for(lambda: len(fake_twilio.messages) >= 10, timeout=60)

    worker.send_signal(signal.SIGTERM)
    [output] = finish(worker, timeout=30)

    assert "stopped early" in output
    assert statuses(session)["sending"] == 0  # finished or given back, nothing left claimed
    assert len(fake_twilio.messages) < count
    finish(tick(environment))
    received = Counter(m["to"] for m in fake_twilio.messages)
    assert len(received) == count and set(received.values()) == {1}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sigterm_stops_run_within_30_seconds_leaving_nothing_claimed(
    db, session, database_url, fake_twilio
) -> None:
    customers = due_surveys(db, 200)
    queued_surveys(db, customers)
    fake_twilio.latency = 0.3
    environment = bot_environment(database_url, twilio=fake_twilio, AFTERCARE_SENDS_IN_FLIGHT="4")
    server = bot(environment, "run", "--port", str(free_port()))
    fake_twilio.wait_for(lambda: len(fake_twilio.messages) >= 10, timeout=60)

    server.send_signal(signal.SIGTERM)
    server.communicate(timeout=30)

    assert server.returncode == 0
    counts = statuses(session)
    assert counts["sending"] == 0 and counts["sent"] == len(fake_twilio.messages)


@pytest.mark.postgres
def test_a_message_queued_by_another_process_wakes_the_sender_through_notify(
    postgres_engine: Engine, fake_twilio, monkeypatch
) -> None:
    """Only NOTIFY can wake it: the poll is an hour, and the queuing process is another one."""
    from messaging.channels import Transports
    from messaging.channels.sms import SmsChannel
    from messaging.outbox import sender as sender_module
    from models.db import session_factory
    from tests.channel_support import channel_settings
    from tests.conftest import truncate_all
    from tests.test_sending import sender_running

    truncate_all(postgres_engine)
    db = session_factory(postgres_engine)
    [customer] = due_surveys(db, 1)
    monkeypatch.setattr(sender_module, "POLL_SECONDS", {"interactive": 3600.0, "bulk": 3600.0})
    settings = channel_settings(twilio=fake_twilio)
    url = postgres_engine.url.render_as_string(hide_password=False)
    queue_one = (
        "import sys; sys.path.insert(0, sys.argv[2])\n"
        "from clock import utcnow\n"
        "from messaging.outbox import queue_message\n"
        "from models.db import make_engine, session_factory\n"
        "with session_factory(make_engine(sys.argv[1])).begin() as session:\n"
        "    queue_message(session, now=utcnow(), channel='sms', address='+14155559999',\n"
        "                  body='Thanks, noted.', purpose='thanks', customer_id=int(sys.argv[3]))\n"
    )
    with sender_running(db, Transports(by_channel={"sms": SmsChannel(settings)}), settings):
        time.sleep(0.5)  # listening
        subprocess.run([sys.executable, "-c", queue_one, url, str(ROOT), str(customer)], check=True)
        [sent] = fake_twilio.wait_for(lambda: fake_twilio.messages, timeout=10)
    assert sent["to"] == "+14155559999"
    with postgres_engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM messages")).scalar() == "sent"
