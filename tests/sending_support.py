"""Helpers for the send-path tests: many due customers, and `bot.py` processes aimed at the fakes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from messaging.outbox import message_row
from models import CheckIn, Customer, Purchase
from tests.channel_support import AUTH, OUR_NUMBER, PUBLIC, SID, TOKEN
from tests.conftest import at
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio

ROOT = Path(__file__).resolve().parent.parent
# 12:00 UTC: inside the customers' (UTC) daytime, the day after their cars were delivered.
NOW = at("2026-03-02 12:00")
DELIVERED = at("2026-03-01 10:00")


def phone_of(n: int) -> str:
    return f"+1415666{n:04d}"


def due_surveys(
    factory: sessionmaker[Session], count: int, *, telegram_from: int | None = None
) -> list[int]:
    """`count` customers, each owed a post-delivery survey at NOW; returns their ids.

    With `telegram_from`, they use Telegram, with chat ids telegram_from, +1, ...
    """
    with factory.begin() as session:
        customers = [
            {
                "external_id": f"c{n}",
                "name": f"Customer {n}",
                "phone": phone_of(n),
                "timezone": "UTC",
                "language": "en",
                "channel": "sms" if telegram_from is None else "telegram",
                "telegram_chat_id": None if telegram_from is None else telegram_from + n,
                "telegram_link_token": f"tok{n}",
                "tags": [],
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(count)
        ]
        session.execute(insert(Customer), customers)
        ids = {c.external_id: c.id for c in session.query(Customer.external_id, Customer.id)}
        session.execute(
            insert(Purchase),
            [
                {
                    "external_id": f"o{n}",
                    "customer_id": ids[f"c{n}"],
                    "product": "Skoda Octavia",
                    "category": "car",
                    "delivered_at": DELIVERED,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(count)
            ],
        )
    return [ids[f"c{n}"] for n in range(count)]


def queued_surveys(
    factory: sessionmaker[Session], customer_ids: list[int], now: datetime = NOW
) -> None:
    """A survey check-in and its queued message for each customer, as dispatch leaves them."""
    with factory.begin() as session:
        customers = {c.id: c for c in session.query(Customer).where(Customer.id.in_(customer_ids))}
        rows = []
        for customer_id in customer_ids:
            checkin = CheckIn(
                customer_id=customer_id,
                kind="periodic",
                dedupe_key=f"bulk-{customer_id}",
                due_at=now,
                status="queued",
                channel="sms",
            )
            session.add(checkin)
            session.flush()
            rows.append(
                message_row(
                    now=now,
                    channel="sms",
                    address=customers[customer_id].phone or "",
                    body=f"Hi {customers[customer_id].first_name}, how likely are you to "
                    "recommend Kowalski Motors? Reply 0-10",
                    purpose="survey",
                    customer_id=customer_id,
                    checkin_id=checkin.id,
                )
            )
        from messaging.outbox import queue_many

        queue_many(session, rows)


def bot_environment(
    database_url: str,
    twilio: FakeTwilio | None = None,
    telegram: FakeTelegram | None = None,
    **extra: str,
) -> dict[str, str]:
    """The environment of a `bot.py` process using the fakes (and nothing of the developer's)."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TWILIO_", "TELEGRAM_", "AFTERCARE_"))
    }
    environment |= {
        "AFTERCARE_DATABASE_URL": database_url,
        "AFTERCARE_PUBLIC_URL": PUBLIC,
        "AFTERCARE_LOG_LEVEL": "WARNING",
        "AFTERCARE_BUSINESS_NAME": "Kowalski Motors",
    }
    if twilio is not None:
        environment |= {
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": AUTH,
            "TWILIO_FROM_NUMBER": OUR_NUMBER,
            "TWILIO_API_BASE_URL": twilio.base_url,
        }
    if telegram is not None:
        environment |= {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": telegram.base_url}
    return environment | extra


def bot(environment: dict[str, Any], *args: str) -> subprocess.Popen[str]:
    """Start `python bot.py ARGS` in its own process group, output captured."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py"), *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def tick(environment: dict[str, Any], now: datetime = NOW) -> subprocess.Popen[str]:
    return bot(environment, "tick", "--now", now.isoformat())


@contextmanager
def serving_bot(
    environment: dict[str, Any],
    output: Path,
    command: Sequence[str] = (sys.executable, str(ROOT / "bot.py")),
) -> Iterator[tuple[str, int]]:
    """`bot.py run` on a free port, its output in `output`; yields (base URL, pid) once it
    answers /healthz, and stops it with SIGTERM afterwards (unless the test killed it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with output.open("w") as log:  # a file, not a pipe: uvicorn logs every request
        server = subprocess.Popen(
            [*command, "run", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"{base}/healthz"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"bot.py run did not start:\n{output.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base, server.pid
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, trust_env=False, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
