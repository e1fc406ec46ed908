"""Hardening, item 8: killed mid-bulk and started again, every customer is texted exactly once.

(tests/test_sending_processes.py kills senders at random, eight times over; this is
the one-crash story an operator lives through.)
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

from sqlalchemy import func, select

from models import CheckIn
from tests.sending_support import bot_environment, due_surveys, phone_of, tick

pytest_plugins = ["tests.conftest_channels"]


def test_a_bulk_killed_with_kill_9_and_restarted_texts_everyone_once(
    db, session, database_url, fake_twilio
) -> None:
    count = 200
    due_surveys(db, count)
    fake_twilio.latency = 0.2  # Twilio answers after 200 ms: plenty is in flight when it dies
    # A 1 s provider timeout keeps leases short (3 s) so the restart reconciles in the test.
    environment = bot_environment(database_url, twilio=fake_twilio, AFTERCARE_PROVIDER_TIMEOUT="1")
    first = tick(environment)
    fake_twilio.wait_for(lambda: len(fake_twilio.messages) >= 40, timeout=60)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert len(fake_twilio.messages) < count  # it died mid-bulk

    time.sleep(3.2)  # its leases run out
    restart = tick(environment)
    out, err = restart.communicate(timeout=120)
    assert restart.returncode == 0, err[-2000:]

    received = Counter(m["to"] for m in fake_twilio.messages)
    assert received == Counter({phone_of(n): 1 for n in range(count)})
    session.expire_all()
    assert session.scalar(select(func.count()).where(CheckIn.status == "sent")) == count
    assert "lost claims settled" in out  # what the dead process had claimed was looked up
