"""The outbox: what happens to a message when its channel succeeds, fails, or cannot tell."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from messaging.channels import ConsoleChannel, SendError, SendResult, Transports
from messaging.channels.base import Buttons
from messaging.optout import withdraw_everything
from messaging.outbox import MAX_ATTEMPTS, STALE_CLAIM, backoff, drain, queue_message
from models import CheckIn, Customer, Message, Purchase
from tests.conftest import at

NOW = at("2026-03-02 15:00")  # 10:00 in New York: inside the hours surveys may go


class ScriptedChannel:
    """A channel that answers from a script of outcomes, then succeeds."""

    name = "sms"

    def __init__(self, *script: SendError) -> None:
        self.script = list(script)
        self.calls: list[str] = []

    def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        self.calls.append(to)
        if self.script:
            raise self.script.pop(0)
        return SendResult(provider_id=f"SM{len(self.calls)}")


def queued(
    db: sessionmaker[Session], customer: Customer, purpose: str = "survey", now: datetime = NOW
) -> int:
    with db.begin() as session:
        message = queue_message(
            session,
            now=now,
            channel="sms",
            address=customer.phone or "",
            body="Hi John",
            purpose=purpose,
            customer_id=customer.id,
        )
        session.flush()
        return message.id


def stored(db: sessionmaker[Session], message_id: int) -> Message:
    with db() as session:
        return session.scalars(select(Message).where(Message.id == message_id)).one()


def test_a_transient_failure_is_retried_after_a_backoff(db, cast) -> None:
    channel = ScriptedChannel(SendError("503 from the provider", permanent=False, code="20503"))
    transports = Transports(by_channel={"sms": channel})
    message_id = queued(db, cast["en"])
    assert drain(db, NOW, transports)["retry"] == 1
    waiting = stored(db, message_id)
    assert (waiting.status, waiting.next_attempt_at) == ("queued", NOW + backoff(1))
    assert drain(db, NOW + backoff(1) - timedelta(seconds=1), transports).total == 0
    assert drain(db, NOW + backoff(1), transports)["sent"] == 1
    assert stored(db, message_id).provider_id == "SM2"


def test_the_providers_retry_after_wins_over_the_backoff(db, cast) -> None:
    channel = ScriptedChannel(SendError("429", permanent=False, retry_after=7))
    message_id = queued(db, cast["en"])
    drain(db, NOW, Transports(by_channel={"sms": channel}))
    assert stored(db, message_id).next_attempt_at == NOW + timedelta(seconds=7)


def test_backoff_doubles_and_is_capped_at_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(20) == timedelta(hours=1)


def test_a_permanent_failure_is_recorded_with_the_providers_code(db, cast) -> None:
    channel = ScriptedChannel(
        SendError("The 'To' number is not valid", permanent=True, code="21211")
    )
    message_id = queued(db, cast["en"])
    drain(db, NOW, Transports(by_channel={"sms": channel}))
    failed = stored(db, message_id)
    assert (failed.status, failed.error_code, failed.error) == (
        "failed",
        "21211",
        "The 'To' number is not valid",
    )


def test_after_the_last_attempt_a_transient_failure_becomes_permanent(db, cast) -> None:
    errors = [SendError("timeout connecting", permanent=False) for _ in range(MAX_ATTEMPTS)]
    channel = ScriptedChannel(*errors)
    message_id = queued(db, cast["en"])
    now = NOW
    for _ in range(MAX_ATTEMPTS):
        drain(db, now, Transports(by_channel={"sms": channel}))
        now += timedelta(hours=2)
    assert stored(db, message_id).status == "failed"
    assert len(channel.calls) == MAX_ATTEMPTS


def test_an_uncertain_send_is_never_resent(db, cast) -> None:
    channel = ScriptedChannel(SendError("read timed out", permanent=False, uncertain=True))
    message_id = queued(db, cast["en"])
    drain(db, NOW, Transports(by_channel={"sms": channel}))
    drain(db, NOW + timedelta(days=1), Transports(by_channel={"sms": channel}))
    assert stored(db, message_id).status == "uncertain"
    assert channel.calls == ["+14155550101"]


def test_a_claim_left_by_a_dead_process_becomes_uncertain(db, cast) -> None:
    message_id = queued(db, cast["en"])
    with db.begin() as session:
        session.get_one(Message, message_id).status = "sending"
    drain(db, NOW + STALE_CLAIM + timedelta(seconds=1), Transports())
    assert stored(db, message_id).status == "uncertain"


@pytest.mark.parametrize(("purpose", "sent"), [("survey", False), ("opt_out_confirmation", True)])
def test_nothing_but_the_confirmation_goes_to_a_customer_who_opted_out(
    db, session, cast, purpose, sent
) -> None:
    cast["en"].opted_out_at = NOW
    session.commit()
    console = ConsoleChannel(stream=None)
    message_id = queued(db, cast["en"], purpose)
    drain(db, NOW, Transports(fallback=console))
    assert bool(console.sent) is sent
    assert stored(db, message_id).status == ("sent" if sent else "cancelled")


def test_a_blocked_telegram_chat_is_marked_and_the_message_goes_by_sms(db, session, cast) -> None:
    john = cast["en"]
    john.telegram_chat_id, john.channel = 4242, "telegram"
    session.commit()
    with db.begin() as s:
        queue_message(
            s,
            now=NOW,
            channel="telegram",
            address="4242",
            body="Hi John",
            purpose="survey",
            customer_id=john.id,
        )

    class Blocked:
        name = "telegram"

        def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
            raise SendError(
                "Forbidden: bot was blocked by the user", permanent=True, unreachable=True
            )

    sms = ScriptedChannel()
    drain(db, NOW, Transports(by_channel={"telegram": Blocked(), "sms": sms}))
    assert sms.calls == ["+14155550101"]
    session.expire_all()
    assert session.get_one(Customer, john.id).telegram_unreachable_at == NOW


def queued_survey(db: sessionmaker[Session], customer: Customer, now: datetime) -> tuple[int, int]:
    """A survey check-in handed to the outbox, as dispatch leaves it: (check-in id, message id)."""
    with db.begin() as session:
        checkin = CheckIn(
            customer_id=customer.id,
            kind="periodic",
            dedupe_key="test",
            due_at=now,
            status="queued",
            channel="sms",
        )
        session.add(checkin)
        session.flush()
        message = queue_message(
            session,
            now=now,
            channel="sms",
            address=customer.phone or "",
            body="Hi John",
            purpose="survey",
            customer_id=customer.id,
            checkin_id=checkin.id,
        )
        session.flush()
        return checkin.id, message.id


@pytest.mark.parametrize(
    ("purpose", "next_attempt"),
    [
        # 19:59:50 in New York plus a 30 s backoff is night: the survey waits for 09:00.
        ("survey", at("2026-03-03 14:00")),
        ("reminder", at("2026-03-03 14:00")),
        ("delay_notice", at("2026-03-03 14:00")),
        # A direct answer to what the customer just wrote is not held back.
        ("followup", at("2026-03-03 01:00:20")),
    ],
)
def test_a_retry_that_would_land_in_the_customers_night_waits_for_the_morning(
    db, cast, purpose, next_attempt
) -> None:
    evening = at("2026-03-03 00:59:50")  # 19:59:50 in New York
    channel = ScriptedChannel(SendError("503 from the provider", permanent=False))
    transports = Transports(by_channel={"sms": channel})
    message_id = queued(db, cast["en"], purpose, now=evening)
    drain(db, evening, transports)
    assert stored(db, message_id).next_attempt_at == next_attempt
    assert drain(db, at("2026-03-03 13:59"), transports)["sent"] == (purpose == "followup")
    drain(db, next_attempt, transports)
    assert stored(db, message_id).status == "sent"
    assert len(channel.calls) == 2


def test_a_claim_left_by_a_dead_process_leaves_the_survey_answerable(db, cast) -> None:
    checkin_id, message_id = queued_survey(db, cast["en"], NOW)
    with db.begin() as session:
        session.get_one(Message, message_id).status = "sending"  # claimed at NOW, then crashed
    later = NOW + STALE_CLAIM + timedelta(seconds=1)
    drain(db, later, Transports())
    with db() as session:
        checkin = session.get_one(CheckIn, checkin_id)
        # It may well have reached the customer: their reply must count, then reminder and expiry.
        assert (checkin.status, checkin.sent_at) == ("sent", NOW)
        assert (checkin.error or "").startswith("uncertain")


def test_a_stop_during_a_failed_send_is_not_undone_by_a_later_start(db, cast) -> None:
    john = cast["en"]
    checkin_id, message_id = queued_survey(db, john, NOW)

    class StopArrivesMidSend(ScriptedChannel):
        def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
            with db.begin() as other:  # the STOP webhook, in another transaction
                customer = other.get_one(Customer, john.id)
                customer.opted_out_at = NOW
                withdraw_everything(other, NOW, customer)
            return super().send(to, text, buttons)

    channel = StopArrivesMidSend(SendError("503 from the provider", permanent=False))
    drain(db, NOW, Transports(by_channel={"sms": channel}))
    with db.begin() as session:  # START: future check-ins only
        session.get_one(Customer, john.id).opted_out_at = None
    drain(db, NOW + timedelta(hours=1), Transports(by_channel={"sms": channel}))
    assert len(channel.calls) == 1
    assert stored(db, message_id).status == "cancelled"
    with db() as session:
        assert session.get_one(CheckIn, checkin_id).status == "suppressed"


class RecordingChannel:
    """An SMS stand-in that keeps what it was asked to send."""

    name = "sms"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        self.sent.append((to, text))
        return SendResult(provider_id=f"SM{len(self.sent)}")


class BlockedTelegram:
    name = "telegram"

    def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        raise SendError("Forbidden: bot was blocked by the user", permanent=True, unreachable=True)


def test_a_survey_rerouted_from_telegram_is_written_for_sms(db, session, cast) -> None:
    from scheduler.tick import tick
    from settings import Settings

    john = cast["en"]
    john.telegram_chat_id, john.channel = 4242, "telegram"
    session.add(
        Purchase(
            external_id="o1",
            customer=john,
            product="Skoda Octavia",
            category="car",
            delivered_at=NOW - timedelta(days=1),
        )
    )
    session.commit()
    sms = RecordingChannel()
    transports = Transports(by_channel={"telegram": BlockedTelegram(), "sms": sms})
    tick(db, NOW, transports, Settings(business_name="Kowalski Motors"))
    [(to, text)] = sms.sent
    assert to == "+14155550101"
    assert "Reply 0-10" in text and "STOP" in text  # the SMS wording, not "tap a score below"
    assert "tap" not in text.lower()


def test_a_rep_alert_rerouted_from_telegram_tells_the_sms_commands(db, session, cast) -> None:
    from escalation.opening import open_escalation
    from messaging.compose import TemplateBook
    from scheduler.rules import DEFAULT_RULES
    from settings import Settings

    anna = cast["rep"]
    anna.telegram_chat_id = 777
    session.commit()
    with db.begin() as s:
        customer = s.get_one(Customer, cast["en"].id)
        question = Message(
            direction="in",
            channel="sms",
            body="Can someone call me?",
            status="received",
            customer_id=customer.id,
            created_at=NOW,
        )
        s.add(question)
        s.flush()
        open_escalation(
            s,
            NOW,
            customer=customer,
            kind="needs_answer",
            message=question,
            rules=DEFAULT_RULES,
            settings=Settings(),
            book=TemplateBook(),
        )
    sms = RecordingChannel()
    drain(db, NOW, Transports(by_channel={"telegram": BlockedTelegram(), "sms": sms}))
    [(to, text)] = sms.sent
    assert to == anna.phone and "ACK 1" in text
