"""Event webhooks out: each change writes its event in its own transaction, and the real flows
(a score, a comment, an escalation's life, STOP and START, a failed send) produce them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from click import ClickException
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cli.common import load_settings
from escalation.actions import acknowledge, resolve
from events import EventType, send_events_to
from events.worker import EventWorker
from messaging.channels import ConsoleChannel, SendError, console_only
from messaging.channels.base import ErrorKind
from messaging.outbox import drain, queue_message
from models import EventDelivery, Purchase, Response
from scheduler.tick import preview, tick
from settings import Settings
from tests.conftest import at
from tests.conversation_support import sent_survey
from tests.fakes.event_receiver import EventReceiver

SECRET = "whsec_test_7f1c0e2b9a"
JOHN = "+14155550101"
ANNA = "+48600000002"  # John's rep
SETTINGS = Settings(business_name="Kowalski Motors", default_tz="UTC")


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    with EventReceiver(SECRET) as server:
        yield server


@pytest.fixture
def wired(db: sessionmaker[Session], receiver: EventReceiver) -> sessionmaker[Session]:
    """The test database's factory, writing events for the receiver (as `run` wires it)."""
    return send_events_to(db, [receiver.url])


def deliver(db: sessionmaker[Session]) -> int:
    return asyncio.run(EventWorker(db, SECRET).deliver_backlog(10))


def outbox(db: sessionmaker[Session]) -> list[EventDelivery]:
    with db() as session:
        return list(session.scalars(select(EventDelivery).order_by(EventDelivery.id)))


def received(db: sessionmaker[Session], receiver: EventReceiver) -> list[dict[str, Any]]:
    """What the receiver accepted, in the order the events were written (a round POSTs its
    events concurrently, so they may arrive in any order; receivers sort by `created_at`)."""
    order = {row.event_id: row.id for row in outbox(db)}
    return sorted(receiver.events.values(), key=lambda event: order[event["id"]])


def types(db: sessionmaker[Session], receiver: EventReceiver) -> list[str]:
    return [event["type"] for event in received(db, receiver)]


def test_a_detractor_reply_produces_response_created_then_escalation_opened(
    wired, session, cast, phone, receiver
) -> None:
    checkin = sent_survey(session, cast["en"])
    purchase = Purchase(
        external_id="order-1001", customer_id=cast["en"].id, product="Skoda Octavia", category="car"
    )
    session.add(purchase)
    session.flush()
    checkin.purchase_id = purchase.id
    session.commit()

    phone.say(JOHN, "3 the paint is scratched", "2026-03-02 16:00")
    assert deliver(wired) == 2

    assert types(wired, receiver) == ["response.created", "escalation.opened"]
    created, opened = received(wired, receiver)
    assert created["created_at"] == "2026-03-02T16:00:00Z"
    assert created["data"] | {"response_id": 0, "checkin_id": 0} == {
        "response_id": 0,
        "checkin_id": 0,
        "score": 3,
        "category": "detractor",
        "comment": "the paint is scratched",
        "channel": "sms",
        "received_at": "2026-03-02T16:00:00Z",
        "kind": "post_delivery",
        "customer": {
            "external_id": "cust-en",
            "name": "John Smith",
            "language": "en",
            "channel": "sms",
        },
        "purchase": {
            "external_id": "order-1001",
            "product": "Skoda Octavia",
            "category": "car",
            "delivered_at": None,
        },
    }
    assert opened["data"]["status"] == "open" and opened["data"]["kind"] == "detractor"
    assert opened["data"]["rep"] == {"external_id": "rep-1", "name": "Anna Kowalska", "role": "rep"}
    assert opened["data"]["response"]["score"] == 3
    assert opened["data"]["sla_due_at"] == "2026-03-02T18:00:00Z"
    # The business's own system gets its ids and names, never a phone number.
    assert all(
        JOHN not in r["body"].decode() and ANNA not in r["body"].decode() for r in receiver.requests
    )


def test_the_answer_to_the_follow_up_produces_response_commented(
    wired, session, cast, phone, receiver
) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "7", "2026-03-02 16:00")
    phone.say(JOHN, "Faster delivery", "2026-03-02 16:05")
    deliver(wired)

    assert types(wired, receiver) == ["response.created", "response.commented"]
    commented = received(wired, receiver)[1]["data"]
    assert (commented["score"], commented["comment"], commented["added"]) == (
        7,
        "Faster delivery",
        "Faster delivery",
    )


def test_an_escalation_s_life_produces_its_events(wired, session, cast, phone, receiver) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "2", "2026-03-02 16:00")
    # Nobody acknowledged by 18:00: the manager is alerted by the pass.
    tick(wired, at("2026-03-02 18:01"), console_only(ConsoleChannel(stream=None)), SETTINGS)
    phone.say(ANNA, "ACK 1", "2026-03-02 18:10")
    phone.say(ANNA, "DONE 1 repainted the door", "2026-03-02 19:00")
    deliver(wired)

    assert types(wired, receiver) == [
        "response.created",
        "escalation.opened",
        "escalation.escalated",
        "escalation.acknowledged",
        "escalation.resolved",
    ]
    by_type = {event["type"]: event["data"] for event in received(wired, receiver)}
    escalated = by_type["escalation.escalated"]
    assert escalated["escalated_to_manager"] is True and escalated["reminder"] == 1
    assert escalated["manager"]["external_id"] == "mgr-1"
    assert by_type["escalation.acknowledged"]["by"] == "Anna Kowalska (rep-1)"
    resolved = by_type["escalation.resolved"]
    assert (resolved["status"], resolved["resolution_note"]) == ("resolved", "repainted the door")


def test_admin_actions_produce_events_too(wired, session, cast, phone, receiver) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "1", "2026-03-02 16:00")
    with wired.begin() as s:
        acknowledge(s, at("2026-03-02 16:30"), escalation_id=1, actor="admin")
        again = acknowledge(s, at("2026-03-02 16:31"), escalation_id=1, actor="admin")
        resolve(s, at("2026-03-02 17:00"), escalation_id=1, actor="admin", note="called")
    deliver(wired)

    assert not again.changed  # a second press changes nothing, and says nothing either
    assert types(wired, receiver)[-2:] == ["escalation.acknowledged", "escalation.resolved"]
    assert types(wired, receiver).count("escalation.acknowledged") == 1


def test_stop_and_start_produce_opted_out_and_opted_in(
    wired, session, cast, phone, receiver
) -> None:
    phone.say(JOHN, "STOP", "2026-03-02 16:00")
    phone.say(JOHN, "STOP", "2026-03-02 16:01")  # already out: nothing changes, no event
    phone.say(JOHN, "START", "2026-03-02 17:00")
    deliver(wired)

    assert types(wired, receiver) == ["customer.opted_out", "customer.opted_in"]
    out = received(wired, receiver)[0]["data"]
    assert out == {
        "customer": {
            "external_id": "cust-en",
            "name": "John Smith",
            "language": "en",
            "channel": "sms",
        },
        "at": "2026-03-02T16:00:00Z",
        "source": "keyword",
        "channel": "sms",
    }


class RefusingChannel(ConsoleChannel):
    """A console channel whose provider refuses every message for good."""

    async def send(self, to: str, text: str, buttons: Any = None) -> Any:
        raise SendError(
            "21610: Attempt to send to unsubscribed recipient", ErrorKind.PERMANENT, code="21610"
        )


def test_a_message_that_fails_for_good_produces_message_failed(
    wired, session, cast, receiver
) -> None:
    now = at("2026-03-02 15:00")
    with wired.begin() as s:
        queue_message(
            s,
            now=now,
            channel="console",
            address=JOHN,
            body="Hi John",
            purpose="survey",
            customer_id=cast["en"].id,
        )
    drain(wired, now, console_only(RefusingChannel(stream=None)), settings=SETTINGS)
    deliver(wired)

    [event] = receiver.events.values()
    assert event["type"] == "message.failed"
    assert event["data"] | {"message_id": 0} == {
        "message_id": 0,
        "channel": "console",
        "purpose": "survey",
        "checkin_id": None,
        "customer": {
            "external_id": "cust-en",
            "name": "John Smith",
            "language": "en",
            "channel": "sms",
        },
        "rep": None,
        "attempts": 1,
        "error_code": "21610",
        "error": "21610: Attempt to send to unsubscribed recipient",
    }


def test_a_change_rolled_back_leaves_no_event(wired, session, cast, phone) -> None:
    from conversation.optout import record_opt_out

    customer_id = cast["en"].id
    with pytest.raises(RuntimeError), wired.begin() as s:
        record_opt_out(s, at("2026-03-02 16:00"), s.get_one(type(cast["en"]), customer_id), "api")
        assert [row.type for row in s.scalars(select(EventDelivery))] == ["customer.opted_out"]
        raise RuntimeError("the rest of the change failed")

    assert outbox(wired) == []
    with wired() as s:
        assert s.get_one(type(cast["en"]), customer_id).opted_out_at is None


def test_plan_rehearses_a_pass_without_writing_its_events(wired, session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "2", "2026-03-02 16:00")
    before = len(outbox(wired))
    preview(wired, at("2026-03-02 18:01"), SETTINGS)
    assert len(outbox(wired)) == before  # the would-be escalation.escalated was rolled back


def test_without_a_receiver_no_event_is_written(db, session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "3", "2026-03-02 16:00")
    phone.say(JOHN, "STOP", "2026-03-02 16:05")

    assert session.scalar(select(Response.score)) == 3
    assert outbox(db) == []


def test_every_receiver_gets_each_event_under_the_same_id(db, session, cast, phone) -> None:
    with EventReceiver(SECRET) as crm, EventReceiver(SECRET) as helpdesk:
        send_events_to(db, [crm.url, helpdesk.url])
        phone.say(JOHN, "STOP", "2026-03-02 16:00")
        deliver(db)

        assert list(crm.events) == list(helpdesk.events) and len(crm.events) == 1
    rows = outbox(db)
    assert {row.endpoint for row in rows} == {crm.url, helpdesk.url}
    assert len({row.event_id for row in rows}) == 1


def test_event_types_are_the_documented_ones() -> None:
    assert [str(t) for t in EventType] == [
        "response.created",
        "response.commented",
        "escalation.opened",
        "escalation.acknowledged",
        "escalation.escalated",
        "escalation.resolved",
        "customer.opted_out",
        "customer.opted_in",
        "message.failed",
    ]


def test_urls_without_a_secret_refuse_to_start(monkeypatch) -> None:
    with pytest.raises(ValidationError, match="AFTERCARE_EVENTS_SECRET is not"):
        Settings(events_url="https://crm.example/hooks")
    monkeypatch.setenv("AFTERCARE_EVENTS_URL", "https://crm.example/hooks")
    # A rule across variables never echoes them all: the database password stays out.
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", "postgresql://care:hunter22@db.example/care")
    with pytest.raises(ClickException) as error:
        load_settings()
    assert error.value.message == (
        "bad configuration: AFTERCARE_EVENTS_URL is set but AFTERCARE_EVENTS_SECRET is not: "
        "events are never sent unsigned"
    )


def test_several_urls_comma_or_space_separated() -> None:
    settings = Settings(
        events_url="https://crm.example/hooks, https://desk.example/in https://crm.example/hooks",
        events_secret=SECRET,
    )
    assert settings.events_endpoints == ("https://crm.example/hooks", "https://desk.example/in")
    with pytest.raises(ValidationError, match="is not an http"):
        Settings(events_url="crm.example/hooks", events_secret=SECRET)
    assert Settings().events_endpoints == ()


def test_a_message_reported_undelivered_produces_message_failed(
    wired, session, cast, receiver
) -> None:
    from conversation.provider_events import record_delivery
    from messaging.channels.base import Receipt
    from models import Message

    session.add(
        Message(
            direction="out",
            channel="sms",
            purpose="rep_alert",
            rep_id=cast["rep"].id,
            address=ANNA,
            body="Anna, escalation #1",
            status="sent",
            provider_id="SM123",
            attempts=1,
        )
    )
    session.commit()
    with wired.begin() as s:
        outcome = record_delivery(
            s,
            at("2026-03-02 16:01"),
            Receipt(
                "sms",
                provider_id="SM123",
                status="undelivered",
                error_code="30003",
                error="Unreachable destination handset",
            ),
        )
    deliver(wired)

    assert outcome == "recorded"
    [event] = receiver.events.values()
    assert event["type"] == "message.failed"
    data = event["data"]
    assert (data["purpose"], data["customer"], data["error_code"], data["error"]) == (
        "rep_alert",
        None,
        "30003",
        "Unreachable destination handset",
    )
    assert data["rep"] == {"external_id": "rep-1", "name": "Anna Kowalska", "role": "rep"}
