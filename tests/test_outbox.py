"""The outbox: what happens to a message when its channel succeeds, fails, or cannot tell."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from conversation.optout import withdraw_everything
from messaging.channels import ConsoleChannel, SendError, SendResult, Transports
from messaging.channels.base import Buttons, ErrorKind, Limit
from messaging.outbox import MAX_ATTEMPTS, backoff, drain, queue_message
from models import CheckIn, Customer, Message, Purchase
from settings import Settings
from tests.conftest import at

NOW = at("2026-03-02 15:00")  # 10:00 in New York: inside the hours surveys may go


class StubChannel:
    """What every channel has besides `send`: no budgets, no look-ups, nothing to close."""

    name = "sms"
    can_look_up = False
    shows_buttons = False

    def limits(self, to: str) -> tuple[Limit, ...]:
        return ()

    async def connect(self) -> None:
        return None

    async def look_up(self, to: str, text: str, since: datetime) -> list[str]:
        return []

    async def aclose(self) -> None:
        return None


class ScriptedChannel(StubChannel):
    """A channel that answers from a script of outcomes, then succeeds."""

    def __init__(self, *script: SendError) -> None:
        self.script = list(script)
        self.calls: list[str] = []

    async def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
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
    channel = ScriptedChannel(SendError("503 from the provider", ErrorKind.TRANSIENT, code="20503"))
    transports = Transports(by_channel={"sms": channel})
    message_id = queued(db, cast["en"])
    assert drain(db, NOW, transports, settings=Settings())["retry"] == 1
    waiting = stored(db, message_id)
    assert (waiting.status, waiting.next_attempt_at) == ("queued", NOW + backoff(1))
    assert (
        drain(db, NOW + backoff(1) - timedelta(seconds=1), transports, settings=Settings()).total
        == 0
    )
    assert drain(db, NOW + backoff(1), transports, settings=Settings())["sent"] == 1
    assert stored(db, message_id).provider_id == "SM2"


def test_the_providers_retry_after_wins_over_the_backoff(db, cast) -> None:
    channel = ScriptedChannel(SendError("429", ErrorKind.TRANSIENT, retry_after=7))
    message_id = queued(db, cast["en"])
    drain(db, NOW, Transports(by_channel={"sms": channel}), settings=Settings())
    assert stored(db, message_id).next_attempt_at == NOW + timedelta(seconds=7)


def test_backoff_doubles_and_is_capped_at_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(20) == timedelta(hours=1)


def test_a_permanent_failure_is_recorded_with_the_providers_code(db, cast) -> None:
    channel = ScriptedChannel(
        SendError("The 'To' number is not valid", ErrorKind.PERMANENT, code="21211")
    )
    message_id = queued(db, cast["en"])
    drain(db, NOW, Transports(by_channel={"sms": channel}), settings=Settings())
    failed = stored(db, message_id)
    assert (failed.status, failed.error_code, failed.error) == (
        "failed",
        "21211",
        "The 'To' number is not valid",
    )


def test_after_the_last_attempt_a_transient_failure_becomes_permanent(db, cast) -> None:
    errors = [SendError("timeout connecting", ErrorKind.TRANSIENT) for _ in range(MAX_ATTEMPTS)]
    channel = ScriptedChannel(*errors)
    message_id = queued(db, cast["en"])
    now = NOW
    for _ in range(MAX_ATTEMPTS):
        drain(db, now, Transports(by_channel={"sms": channel}), settings=Settings())
        now += timedelta(hours=2)
    assert stored(db, message_id).status == "failed"
    assert len(channel.calls) == MAX_ATTEMPTS


def test_an_uncertain_send_is_never_resent(db, cast) -> None:
    channel = ScriptedChannel(SendError("read timed out", ErrorKind.UNCERTAIN))
    message_id = queued(db, cast["en"])
    drain(db, NOW, Transports(by_channel={"sms": channel}), settings=Settings())
    drain(db, NOW + timedelta(days=1), Transports(by_channel={"sms": channel}), settings=Settings())
    assert stored(db, message_id).status == "uncertain"
    assert channel.calls == ["+14155550101"]


def lost_claim(db: sessionmaker[Session], message_id: int) -> None:
    """The message was claimed by a process that died: its lease ran out a moment ago."""
    with db.begin() as session:
        message = session.get_one(Message, message_id)
        message.status, message.attempts = "sending", message.attempts + 1
        message.lease_until = utcnow() - timedelta(seconds=1)


class LookingUpChannel(ScriptedChannel):
    """An SMS stand-in whose provider can say what it has (as Twilio's message list does)."""

    can_look_up = True

    def __init__(self, *script: SendError, has: dict[tuple[str, str], str] | None = None) -> None:
        super().__init__(*script)
        self.has = dict(has or {})
        self.looked_up: list[str] = []

    async def look_up(self, to: str, text: str, since: datetime) -> list[str]:
        self.looked_up.append(to)
        return [self.has[(to, text)]] if (to, text) in self.has else []


def test_a_lost_claim_the_provider_has_is_recorded_as_sent_not_resent(db, cast) -> None:
    channel = LookingUpChannel(has={("+14155550101", "Hi John"): "SMfound"})
    message_id = queued(db, cast["en"])
    lost_claim(db, message_id)
    report = drain(db, NOW, Transports(by_channel={"sms": channel}), settings=Settings())
    assert report.reconciled == {"found": 1} and channel.calls == []
    found = stored(db, message_id)
    assert (found.status, found.provider_id, found.reconciliation) == ("sent", "SMfound", "found")


def test_a_lost_claim_the_provider_never_got_is_sent_again(db, cast) -> None:
    channel = LookingUpChannel()
    message_id = queued(db, cast["en"])
    lost_claim(db, message_id)
    report = drain(db, NOW, Transports(by_channel={"sms": channel}), settings=Settings())
    assert report.reconciled == {"resent": 1} and channel.calls == ["+14155550101"]
    resent = stored(db, message_id)
    assert (resent.status, resent.reconciliation, resent.attempts) == ("sent", "resent", 2)


def test_a_lost_claim_on_a_channel_that_cannot_tell_is_resent_as_a_possible_duplicate(
    db, cast
) -> None:
    channel = ScriptedChannel()
    message_id = queued(db, cast["en"])
    lost_claim(db, message_id)
    assert drain(
        db, NOW, Transports(by_channel={"sms": channel}), settings=Settings()
    ).reconciled == {"resent_blind": 1}
    assert channel.calls == ["+14155550101"]
    assert stored(db, message_id).reconciliation == "resent_blind"


def test_a_claim_whose_lease_still_runs_is_left_alone(db, cast) -> None:
    channel = ScriptedChannel()
    message_id = queued(db, cast["en"])
    with db.begin() as session:
        message = session.get_one(Message, message_id)
        message.status, message.lease_until = "sending", utcnow() + timedelta(seconds=30)
    assert drain(db, NOW, Transports(by_channel={"sms": channel}), settings=Settings()).total == 0
    assert channel.calls == [] and stored(db, message_id).status == "sending"


def test_an_uncertain_send_is_looked_up_and_resent_only_if_the_provider_lacks_it(db, cast) -> None:
    timeout = SendError("read timed out", ErrorKind.UNCERTAIN)
    channel = LookingUpChannel(timeout, timeout)
    transports = Transports(by_channel={"sms": channel})
    first, second = queued(db, cast["en"]), queued(db, cast["pl"])
    drain(db, NOW, transports, settings=Settings())
    assert {stored(db, m).status for m in (first, second)} == {"uncertain"}
    channel.has[("+14155550101", "Hi John")] = "SMtaken"  # Twilio did take the first one
    with db.begin() as session:  # the look-up is due once the provider has had its time
        for message_id in (first, second):
            session.get_one(Message, message_id).lease_until = utcnow() - timedelta(seconds=1)
    report = drain(db, NOW, transports, settings=Settings())
    assert report.reconciled == {"found": 1, "resent": 1}
    assert channel.calls == ["+14155550101", "+48601234567", "+48601234567"]
    assert stored(db, first).provider_id == "SMtaken" and stored(db, second).status == "sent"


@pytest.mark.parametrize(("purpose", "sent"), [("survey", False), ("opt_out_confirmation", True)])
def test_nothing_but_the_confirmation_goes_to_a_customer_who_opted_out(
    db, session, cast, purpose, sent
) -> None:
    cast["en"].opted_out_at = NOW
    session.commit()
    console = ConsoleChannel(stream=None)
    message_id = queued(db, cast["en"], purpose)
    drain(db, NOW, Transports(fallback=console), settings=Settings())
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

    class Blocked(StubChannel):
        name = "telegram"

        async def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
            raise SendError("Forbidden: bot was blocked by the user", ErrorKind.UNREACHABLE)

    sms = ScriptedChannel()
    drain(db, NOW, Transports(by_channel={"telegram": Blocked(), "sms": sms}), settings=Settings())
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
    channel = ScriptedChannel(SendError("503 from the provider", ErrorKind.TRANSIENT))
    transports = Transports(by_channel={"sms": channel})
    message_id = queued(db, cast["en"], purpose, now=evening)
    drain(db, evening, transports, settings=Settings())
    assert stored(db, message_id).next_attempt_at == next_attempt
    assert drain(db, at("2026-03-03 13:59"), transports, settings=Settings())["sent"] == (
        purpose == "followup"
    )
    drain(db, next_attempt, transports, settings=Settings())
    assert stored(db, message_id).status == "sent"
    assert len(channel.calls) == 2


def test_a_lost_claim_on_a_survey_leaves_the_survey_sent_and_answerable(db, cast) -> None:
    checkin_id, message_id = queued_survey(db, cast["en"], NOW)
    lost_claim(db, message_id)
    later = NOW + timedelta(minutes=10)
    drain(db, later, Transports(by_channel={"sms": ScriptedChannel()}), settings=Settings())
    with db() as session:
        checkin = session.get_one(CheckIn, checkin_id)
        # Resent (the console cannot say whether it went): the reply must count, then
        # reminder and expiry.
        assert (checkin.status, checkin.sent_at) == ("sent", later)


def test_a_stop_during_a_failed_send_is_not_undone_by_a_later_start(db, cast) -> None:
    john = cast["en"]
    checkin_id, message_id = queued_survey(db, john, NOW)

    class StopArrivesMidSend(ScriptedChannel):
        async def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
            def stop() -> None:
                with db.begin() as other:  # the STOP webhook, in another transaction
                    customer = other.get_one(Customer, john.id)
                    customer.opted_out_at = NOW
                    withdraw_everything(other, NOW, customer)

            await asyncio.to_thread(stop)
            return await super().send(to, text, buttons)

    channel = StopArrivesMidSend(SendError("503 from the provider", ErrorKind.TRANSIENT))
    drain(db, NOW, Transports(by_channel={"sms": channel}), settings=Settings())
    with db.begin() as session:  # START: future check-ins only
        session.get_one(Customer, john.id).opted_out_at = None
    drain(
        db, NOW + timedelta(hours=1), Transports(by_channel={"sms": channel}), settings=Settings()
    )
    assert len(channel.calls) == 1
    assert stored(db, message_id).status == "cancelled"
    with db() as session:
        assert session.get_one(CheckIn, checkin_id).status == "suppressed"


class RecordingChannel(StubChannel):
    """An SMS stand-in that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        self.sent.append((to, text))
        return SendResult(provider_id=f"SM{len(self.sent)}")


class BlockedTelegram(StubChannel):
    name = "telegram"

    async def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        raise SendError("Forbidden: bot was blocked by the user", ErrorKind.UNREACHABLE)


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
    from cadence.rules import DEFAULT_RULES
    from escalation.opening import open_escalation
    from messaging.compose import TemplateBook
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
    drain(
        db,
        NOW,
        Transports(by_channel={"telegram": BlockedTelegram(), "sms": sms}),
        settings=Settings(),
    )
    [(to, text)] = sms.sent
    assert to == anna.phone and "ACK 1" in text


# -- leases, late outcomes, opt-outs while waiting, the night -----------------------------


class PacedChannel(ScriptedChannel):
    """A provider that takes two messages a second, shared by every process."""

    def limits(self, to: str) -> tuple[Limit, ...]:
        return (Limit("paced", 2.0),)


def test_a_claim_that_cannot_start_within_its_lease_is_given_back_not_sent_late(db, cast) -> None:
    # A 1 s provider timeout: a claim may wait about 0.9 s for its turn before it must go
    # back (later, its lease could run out in flight and it would be sent twice).
    settings = Settings(provider_timeout=1.0)
    channel = PacedChannel()
    transports = Transports(by_channel={"sms": channel})
    ids = [queued(db, cast[language]) for language in ("en", "pl", "uk", "ru", "th")]
    first = drain(db, NOW, transports, settings=settings)
    assert first["sent"] < 5 and first["sent"] + first["released"] == 5
    with db() as session:
        assert session.scalar(select(func.count()).where(Message.status == "sending")) == 0
    later = NOW
    while len(channel.calls) < 5:
        later += timedelta(minutes=1)
        drain(db, later, transports, settings=settings)
    assert sorted(channel.calls) == sorted({stored(db, i).address for i in ids})
    assert {stored(db, i).attempts for i in ids} == {1}  # a release costs no attempt


def test_an_outcome_that_comes_after_reconciliation_took_the_claim_is_ignored(db, cast) -> None:
    from messaging.outbox.claims import claim
    from messaging.outbox.reconcile import Finding, settle, take_lost
    from messaging.outbox.record import Outcome, OutcomeKind, record

    message_id = queued(db, cast["en"])
    now = utcnow()
    with db.begin() as session:
        [mine] = claim(
            session, lane="bulk", now=NOW, worker="slow", limit=1, claimed_at=now,
            lease_until=now - timedelta(seconds=1),
        )  # fmt: skip
    with db.begin() as session:
        [lost] = take_lost(session, utcnow(), "reconciler", timedelta(seconds=30))
    with db.begin() as session:  # the slow process finally writes its outcome
        record(
            session,
            NOW,
            utcnow(),
            "slow",
            [Outcome(mine, OutcomeKind.SENT, provider_id="SM1")],
            "UTC",
        )
    assert (stored(db, message_id).status, stored(db, message_id).provider_id) == ("sending", None)
    with db.begin() as session:  # Twilio has SM1: the reconciler records it, once
        counts = settle(session, NOW, "reconciler", [Finding(lost, "looked_up", ("SM1",))], "UTC")
    assert counts == {"found": 1}
    assert (stored(db, message_id).status, stored(db, message_id).provider_id) == ("sent", "SM1")


def test_a_stop_that_arrives_while_a_message_waits_its_turn_stops_it(db, cast) -> None:
    john = cast["en"]
    first, second = queued(db, john, "survey"), queued(db, john, "reminder")

    class StopDuringTheFirst(ScriptedChannel):
        async def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
            if not self.calls:

                def stop() -> None:
                    with db.begin() as other:
                        customer = other.get_one(Customer, john.id)
                        customer.opted_out_at = NOW
                        withdraw_everything(other, NOW, customer)

                await asyncio.to_thread(stop)
                await asyncio.sleep(0.3)  # longer than the opt-outs are trusted for
            return await super().send(to, text, buttons)

    channel = StopDuringTheFirst()
    drain(db, NOW, Transports(by_channel={"sms": channel}), settings=Settings())
    assert channel.calls == [john.phone]  # the one already on its way, and no more
    assert (stored(db, first).status, stored(db, second).status) == ("sent", "cancelled")


def test_a_survey_resent_after_a_crash_in_the_evening_waits_for_the_morning(db, cast) -> None:
    evening = at("2026-03-03 02:30")  # 21:30 in New York
    message_id = queued(db, cast["en"], "survey", now=evening)
    lost_claim(db, message_id)
    drain(db, evening, Transports(by_channel={"sms": ScriptedChannel()}), settings=Settings())
    resent = stored(db, message_id)
    assert (resent.status, resent.reconciliation) == ("queued", "resent_blind")
    assert resent.next_attempt_at == at("2026-03-03 14:00")  # 09:00 in New York


def test_a_lane_survives_a_database_error_and_carries_on(db, cast, monkeypatch) -> None:
    from messaging.outbox import sender as sender_module

    original = sender_module.Sender._claim
    failures = iter([True])

    def flaky(self, lane, limit):
        if next(failures, False):
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return original(self, lane, limit)

    monkeypatch.setattr(sender_module.Sender, "_claim", flaky)
    monkeypatch.setattr(sender_module, "RETRY_AFTER_FAILURE", 0.01)
    channel = ScriptedChannel()
    queued(db, cast["en"])
    assert drain(db, NOW, Transports(by_channel={"sms": channel}), settings=Settings())["sent"] == 1
