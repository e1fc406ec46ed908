"""Delivering events: signed as documented, at least once, retried with backoff for a day, one
claim per row across processes, and never in the way of a message."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from conversation.inbound import Inbound, receive
from conversation.optout import record_opt_out
from events import EventType, record_event, send_events_to
from events.delivery import GIVE_UP_AFTER, backoff, claim
from events.signing import HEADER, verify
from events.worker import EventWorker
from messaging.channels import console_only
from messaging.outbox import Sender
from models import Customer, EventDelivery
from models.states import EventDeliveryStatus
from settings import Settings
from tests.conftest import at
from tests.conversation_support import sent_survey
from tests.fakes.event_receiver import EventReceiver
from tests.test_admin import csrf_of, log_in, make_app
from web.app import create_app

SECRET = "whsec_test_7f1c0e2b9a"
JOHN = "+14155550101"
ANNA = "+48600000002"  # John's rep
SETTINGS = Settings(business_name="Kowalski Motors", default_tz="UTC")
SIGNATURE = re.compile(r"^t=(\d+),v1=([0-9a-f]{64})$")


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    with EventReceiver(SECRET) as server:
        yield server


@pytest.fixture
def wired(db: sessionmaker[Session], receiver: EventReceiver) -> sessionmaker[Session]:
    return send_events_to(db, [receiver.url])


def write_events(db: sessionmaker[Session], count: int = 1) -> list[str]:
    """`count` customer.opted_out events, recorded as the real flow records them."""
    ids = []
    with db.begin() as session:
        for n in range(count):
            customer = Customer(
                external_id=f"c-{n}", name=f"Customer {n}", phone=f"+1415555{n:04d}"
            )
            session.add(customer)
            session.flush()
            record_opt_out(session, at("2026-03-02 16:00"), customer, "api", detail="from the CRM")
        ids = list(session.scalars(select(EventDelivery.event_id).order_by(EventDelivery.id)))
    return ids


def rows(db: sessionmaker[Session]) -> list[EventDelivery]:
    with db() as session:
        return list(session.scalars(select(EventDelivery).order_by(EventDelivery.id)))


async def round_at(worker: EventWorker, moment, timeout: float = 5.0) -> list:
    async with httpx.AsyncClient(timeout=timeout) as http:
        return await worker.deliver_due(http, moment)


async def test_each_request_is_signed_as_documented(wired, receiver) -> None:
    [event_id] = write_events(wired)
    await EventWorker(wired, SECRET).deliver_backlog(5)

    [request] = receiver.requests
    signature = request["headers"][HEADER]
    timestamp, digest = SIGNATURE.match(signature).groups()  # type: ignore[union-attr]
    assert abs(int(timestamp) - time.time()) < 300
    # The receiver checked it with the documented algorithm, written out independently.
    assert receiver.bad_signatures == 0 and list(receiver.events) == [event_id]
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Aftercare-Event-Id"] == event_id
    # Our own verifier agrees, and refuses a changed body, another key and an old timestamp.
    body, now = request["body"], time.time()
    assert verify(SECRET, signature, body, now)
    assert not verify(SECRET, signature, body.replace(b"c-0", b"c-1"), now)
    assert not verify("another-secret", signature, body, now)
    assert not verify(SECRET, signature, body, now + 301)
    assert not verify(SECRET, f"t={timestamp}", body, now)


async def test_a_receiver_with_another_secret_refuses_and_the_event_waits(wired, db) -> None:
    with EventReceiver("not-our-secret") as stranger:
        send_events_to(db, [stranger.url])
        write_events(db)
        await EventWorker(db, SECRET).deliver_backlog(5)
        assert stranger.bad_signatures == 1 and stranger.events == {}
    [row] = rows(db)
    assert (row.status, row.attempts, row.last_status) == ("pending", 1, 400)


async def test_a_500_is_retried_after_a_backoff_with_the_same_id(wired, receiver) -> None:
    [event_id] = write_events(wired)
    receiver.fail_next(500)
    worker = EventWorker(wired, SECRET)
    start = utcnow()

    [attempt] = await round_at(worker, start)
    assert not attempt.delivered
    [row] = rows(wired)
    assert (row.status, row.attempts, row.last_status) == ("pending", 1, 500)
    assert row.next_attempt_at == start + backoff(1) == start + timedelta(seconds=10)
    assert row.last_error == "HTTP 500: try later"

    assert await round_at(worker, start + timedelta(seconds=9)) == []  # not due yet
    [attempt] = await round_at(worker, start + timedelta(seconds=10))
    assert attempt.delivered

    assert [r["headers"]["X-Aftercare-Event-Id"] for r in receiver.requests] == [event_id] * 2
    assert list(receiver.events) == [event_id]
    [row] = rows(wired)
    assert (row.status, row.attempts, row.last_status) == ("delivered", 2, 200)


def test_the_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 9, 10, 30)] == [
        10,
        20,
        40,
        80,
        2560,
        3600,
        3600,
    ]


async def test_a_receiver_down_for_an_hour_loses_nothing(db) -> None:
    receiver = EventReceiver(SECRET)
    port = int(receiver.base_url.rsplit(":", 1)[1])
    send_events_to(db, [receiver.url])
    receiver.stop()  # down: connections are refused
    ids = write_events(db, 3)
    worker = EventWorker(db, SECRET)
    start = utcnow()

    moment, tries = start, 0
    while moment < start + timedelta(hours=1):
        attempts = await round_at(worker, moment)
        assert attempts and not any(a.delivered for a in attempts)
        tries += 1
        moment = min(r.next_attempt_at for r in rows(db))
    assert tries >= 9  # 10 s, 20 s, ... 40 min: it kept trying all along
    assert {r.status for r in rows(db)} == {"pending"}
    assert all(r.last_status is None and "ConnectError" in (r.last_error or "") for r in rows(db))

    with EventReceiver(SECRET, port=port) as back:
        attempts = await round_at(worker, moment)
        assert len(attempts) == 3 and all(a.delivered for a in attempts)
        assert sorted(back.events) == sorted(ids) and len(back.requests) == 3
    assert {r.status for r in rows(db)} == {"delivered"}


async def test_after_a_day_of_failures_an_event_is_dead(wired, receiver) -> None:
    write_events(wired)
    receiver.fail_next(503, times=100)
    worker = EventWorker(wired, SECRET)
    start = utcnow()

    await round_at(worker, start + GIVE_UP_AFTER - timedelta(minutes=1))
    assert rows(wired)[0].status == "pending"
    await round_at(worker, start + GIVE_UP_AFTER + timedelta(hours=1))
    [row] = rows(wired)
    assert (row.status, row.attempts, row.last_status) == ("dead", 2, 503)
    assert await round_at(worker, start + timedelta(days=3)) == []  # never tried again


async def test_no_duplicates_in_normal_operation(wired, receiver) -> None:
    ids = write_events(wired, 20)
    assert await EventWorker(wired, SECRET, in_flight=8).deliver_backlog(10) == 20

    assert len(receiver.requests) == 20 and sorted(receiver.events) == sorted(ids)
    assert {r.status for r in rows(wired)} == {"delivered"}


async def test_two_processes_post_each_event_once(wired, receiver) -> None:
    ids = write_events(wired, 30)
    first = EventWorker(wired, SECRET, in_flight=4, worker="host-a:1:events")
    second = EventWorker(wired, SECRET, in_flight=4, worker="host-b:2:events")
    await asyncio.gather(first.deliver_backlog(20), second.deliver_backlog(20))

    assert len(receiver.requests) == 30 and sorted(receiver.events) == sorted(ids)


def test_a_claim_is_one_process_s_until_its_lease_runs_out(wired) -> None:
    write_events(wired, 2)
    now, lease = utcnow(), timedelta(seconds=30)
    with wired.begin() as session:
        mine = claim(session, now=now, worker="a", limit=10, lease=lease)
    with wired.begin() as session:
        assert (
            claim(session, now=now + timedelta(seconds=29), worker="b", limit=10, lease=lease) == []
        )
    # Process a died mid-attempt: once its lease ends, b takes the rows and tries again.
    with wired.begin() as session:
        theirs = claim(session, now=now + lease, worker="b", limit=10, lease=lease)
    assert [r.id for r in theirs] == [r.id for r in mine]
    assert [r.attempts for r in theirs] == [2, 2]


async def test_a_receiver_that_hangs_does_not_hold_up_messages(
    wired, session, cast, console, receiver
) -> None:
    """As in `run`: the event worker and the message sender share one event loop."""
    receiver.hang(30)
    write_events(wired)
    worker = EventWorker(wired, SECRET, timeout=20, poll_seconds=0.05)
    runner = asyncio.create_task(worker.run())
    transports = console_only(console)
    now = at("2026-03-02 16:00")
    try:
        await asyncio.to_thread(receiver.wait_for, lambda: receiver.requests)  # stuck on it now
        sent_survey(session, cast["en"])
        reply = Inbound(channel="sms", address=JOHN, text="3", provider_id="in-1", received_at=now)
        with wired.begin() as s:
            receive(s, now, reply, SETTINGS)
        async with transports.served_here():
            sender = Sender(wired, transports, SETTINGS, clock=lambda: now)
            sender.producing(False)
            try:
                await sender.drain()
            finally:
                sender.close()

        # The customer was answered and the rep alerted while the receiver still hangs.
        [question] = console.to(JOHN)
        assert "What went wrong?" in question
        assert console.to(ANNA)
        assert receiver.events == {} and not runner.done()
        assert {r.type for r in rows(wired)} >= {"response.created", "escalation.opened"}
    finally:
        worker.stop()
        receiver.stop()  # wakes the hanging request
        await runner


def test_the_worker_refuses_to_send_unsigned(wired) -> None:
    with pytest.raises(ValueError, match="never sent unsigned"):
        EventWorker(wired, "")


def test_the_event_type_is_stored_beside_its_body(wired) -> None:
    with wired.begin() as session:
        event_id = record_event(session, at("2026-03-02 16:00"), EventType.MESSAGE_FAILED, {"x": 1})
    [row] = rows(wired)
    assert (row.event_id, row.type, row.status) == (
        event_id,
        "message.failed",
        EventDeliveryStatus.PENDING,
    )
    assert row.body == (
        f'{{"id":"{event_id}","type":"message.failed","created_at":"2026-03-02T16:00:00Z","data":{{"x":1}}}}'
    )


# ---------------------------------------------------------------- in tick and in run


def test_tick_delivers_the_events_its_pass_recorded(
    db, database_url, session, cast, phone, monkeypatch, receiver
) -> None:
    from click.testing import CliRunner

    import bot
    from settings import reset_settings

    sent_survey(session, cast["en"])
    phone.say(JOHN, "2", "2026-03-02 16:00")  # no receiver wired here: no events yet
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", database_url)
    monkeypatch.setenv("AFTERCARE_EVENTS_URL", receiver.url)
    monkeypatch.setenv("AFTERCARE_EVENTS_SECRET", SECRET)
    reset_settings()

    result = CliRunner().invoke(bot.main, ["tick", "--now", "2026-03-02T18:01:00Z"])

    assert result.exit_code == 0, result.output
    assert "events:     1 delivery attempts" in result.output
    [event] = receiver.events.values()
    assert event["type"] == "escalation.escalated" and event["created_at"] == "2026-03-02T18:01:00Z"
    assert [row.status for row in rows(db)] == ["delivered"]


def test_run_delivers_events_from_its_own_task(db, session, cast, console, receiver) -> None:
    from fastapi.testclient import TestClient

    from cli.running import build_app
    from conversation.optout import record_opt_out

    settings = Settings(events_url=receiver.url, events_secret=SECRET)
    send_events_to(db, settings.events_endpoints)
    app = build_app(db, console_only(console), settings, scheduler=False)
    with TestClient(app):
        assert app.state.event_worker is not None
        with db.begin() as s:
            record_opt_out(
                s, at("2026-03-02 16:00"), s.get_one(type(cast["en"]), cast["en"].id), "api"
            )
        receiver.wait_for(lambda: receiver.events, timeout=15)
    assert [event["type"] for event in receiver.events.values()] == ["customer.opted_out"]


# ---------------------------------------------------------------- failures shown


async def dead_and_failing(db: sessionmaker[Session], receiver: EventReceiver) -> None:
    """Two events: one dead after a day of 503s, one failed once and waiting for its retry."""
    write_events(db, 1)
    receiver.fail_next(503, times=3)
    worker = EventWorker(db, SECRET)
    start = utcnow()
    await round_at(worker, start)
    await round_at(worker, start + GIVE_UP_AFTER)
    late = Customer(external_id="c-late", name="Late", phone="+14155559999")
    with db.begin() as session:
        session.add(late)
        session.flush()
        record_opt_out(session, start, late, "api")
    await round_at(worker, utcnow())


async def test_metrics_show_waiting_and_dead_events(wired, receiver) -> None:
    await dead_and_failing(wired, receiver)
    client = TestClient(create_app(wired, Settings(api_token="secret")))
    text = client.get("/metrics", headers={"Authorization": "Bearer secret"}).text

    assert 'aftercare_events{status="dead"} 1.0' in text
    assert 'aftercare_events{status="pending"} 1.0' in text
    assert "aftercare_events_pending 1.0" in text
    assert "aftercare_events_dead 1.0" in text
    assert "aftercare_events_oldest_pending_seconds " in text
    assert 'aftercare_event_attempts_total{outcome="dead"}' in text
    assert 'aftercare_event_attempts_total{outcome="failed"}' in text


async def test_the_admin_page_lists_failing_and_dead_deliveries(wired, receiver, cast) -> None:
    await dead_and_failing(wired, receiver)
    app, _ = make_app(wired, events_url=receiver.url + "?token=abc", events_secret=SECRET)
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/admin/events").status_code == 303  # login first
        assert log_in(client).status_code == 303
        html = client.get("/admin/events").text

        assert f"<code>{receiver.url}</code>" in html and "token=abc" not in html
        assert html.count("customer.opted_out") == 2
        assert "HTTP 503: try later" in html and "dead" in html
        [row_id] = [r.id for r in rows(wired) if r.status == "dead"]
        retried = client.post(f"/admin/events/{row_id}/retry", data={"csrf_token": csrf_of(html)})
        assert retried.status_code == 303
    assert {r.id: r.status for r in rows(wired)}[row_id] == "pending"
    await EventWorker(wired, SECRET).deliver_backlog(5)  # due at once; the other one is not yet
    assert {r.id: r.status for r in rows(wired)}[row_id] == "delivered"


async def test_a_receiver_that_does_not_answer_in_time_is_a_failure(wired, receiver) -> None:
    write_events(wired)
    receiver.hang(30)
    [attempt] = await round_at(EventWorker(wired, SECRET, timeout=0.5), utcnow())

    assert (attempt.delivered, attempt.status, attempt.error) == (
        False,
        None,
        "no answer within 0.5 s",
    )
    [row] = rows(wired)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "no answer within 0.5 s")


def test_without_a_receiver_the_payload_is_not_even_built(db) -> None:
    def payload() -> dict:
        raise AssertionError("built for nobody")

    with db.begin() as session:
        assert (
            record_event(session, at("2026-03-02 16:00"), EventType.MESSAGE_FAILED, payload) is None
        )
    assert rows(db) == []
