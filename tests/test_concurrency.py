"""Several processes on one database: nothing is sent twice, nothing to someone who opted out."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from cadence.rules import DEFAULT_RULES
from conversation.inbound import Inbound, receive
from messaging.channels import ConsoleChannel, console_only
from messaging.outbox import drain
from models import CheckIn, Customer, Message, Purchase
from models.db import session_factory
from scheduler.dispatch import dispatch
from scheduler.planner import plan
from scheduler.tick import tick
from settings import Settings
from tests.conftest import at
from tests.conftest import truncate_all as truncate

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings(business_name="Kowalski Motors")
NOW = at("2026-03-02 12:00")


def many_due_surveys(session: Session, count: int) -> None:
    for n in range(count):
        customer = Customer(
            external_id=f"c{n}", name=f"Customer {n}", phone=f"+1415555{n:04d}", timezone="UTC"
        )
        session.add(customer)
        session.add(
            Purchase(
                external_id=f"o{n}",
                customer=customer,
                product="Skoda Octavia",
                category="car",
                delivered_at=at("2026-03-01 10:00"),
            )
        )
    session.commit()


def ticks_at_once(
    db: sessionmaker[Session], now: datetime, console: ConsoleChannel, passes: int = 4
) -> list[BaseException]:
    """Run `passes` ticks at `now` in parallel threads (own connections); return their errors."""
    errors: list[BaseException] = []

    def one_process() -> None:
        try:
            tick(db, now, console_only(console), SETTINGS)
        except BaseException as error:  # noqa: BLE001 - reported to the caller
            errors.append(error)

    threads = [threading.Thread(target=one_process) for _ in range(passes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_passes_running_at_once_send_each_survey_once(
    db: sessionmaker[Session], session: Session
) -> None:
    many_due_surveys(session, 120)
    console = ConsoleChannel(stream=None)
    assert ticks_at_once(db, NOW, console) == []
    addresses = [m.to for m in console.sent]
    assert len(addresses) == 120 and len(set(addresses)) == 120
    assert session.scalar(select(func.count(CheckIn.id))) == 120
    assert session.scalar(select(func.count(Message.id)).where(Message.purpose == "survey")) == 120


def test_tick_commands_in_separate_processes_send_each_survey_once(postgres_engine: Engine) -> None:
    """Separate `bot.py tick` processes share a database server: PostgreSQL only."""
    engine, processes = postgres_engine, 3
    truncate(engine)
    session = session_factory(engine)()
    many_due_surveys(session, 60)
    url = engine.url.render_as_string(hide_password=False)
    environment = {**os.environ, "AFTERCARE_DATABASE_URL": url, "AFTERCARE_LOG_LEVEL": "WARNING"}
    commands = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), "tick", "--now", NOW.isoformat()],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    outputs = [command.communicate(timeout=180) for command in commands]
    assert [command.returncode for command in commands] == [0] * processes, outputs
    printed = [line for out, _ in outputs for line in out.splitlines() if line.startswith("--> ")]
    assert len(printed) == 60 and len(set(printed)) == 60
    session.expire_all()
    assert session.scalar(select(func.count(Message.id)).where(Message.purpose == "survey")) == 60
    with engine.connect() as connection:
        statuses = dict(
            connection.execute(text("SELECT status, count(*) FROM checkins GROUP BY status")).all()
        )
    assert statuses == {"sent": 60}
    session.close()


def test_a_stop_between_queueing_and_sending_stops_the_survey(
    db: sessionmaker[Session], session: Session
) -> None:
    many_due_surveys(session, 3)
    # Plan and dispatch queue the surveys, but the outbox has not run yet.
    console = ConsoleChannel(stream=None)
    with db.begin() as planning:
        plan(planning, NOW, DEFAULT_RULES, SETTINGS.default_tz)
    list(dispatch(db, NOW, DEFAULT_RULES, SETTINGS))
    assert console.sent == []
    with db.begin() as other_process:
        receive(
            other_process,
            NOW,
            Inbound(
                channel="console",
                address="+14155550001",
                text="STOP",
                provider_id="sim-1",
                received_at=NOW,
            ),
            SETTINGS,
        )
    drain(db, NOW, console_only(console), settings=Settings())
    assert "+14155550001" not in {m.to for m in console.sent if "recommend" in m.text}
    assert len([m for m in console.sent if "recommend" in m.text]) == 2


def test_passes_running_at_once_send_each_reminder_once(
    db: sessionmaker[Session], session: Session
) -> None:
    many_due_surveys(session, 40)
    console = ConsoleChannel(stream=None)
    tick(db, NOW, console_only(console), SETTINGS)
    three_days_later = NOW + timedelta(days=3)
    assert ticks_at_once(db, three_days_later, console) == []
    reminders = [m.to for m in console.sent if "in case you missed it" in m.text]
    assert len(reminders) == 40 and len(set(reminders)) == 40
