"""The inbox: a webhook is acknowledged once its message is stored; the turn is taken after.

The served app here has no inbox worker: a test takes the turns itself
(`take_turns`), so what the webhook did and what the turn did can be told
apart. `bot.py run` processes take turns on their own.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from conversation.inbound import Inbound
from conversation.inbox import MAX_ATTEMPTS, due_turns, store, take_turn, take_turns
from conversation.inbox import turns as turns_module
from messaging.channels import Transports
from models import CheckIn, Customer, Message, Response
from models.db import session_factory
from settings import Settings
from tests.channel_support import (
    OUR_NUMBER,
    PUBLIC,
    channel_settings,
    messages,
    serving,
    survey_for,
    webhook_app,
)
from tests.conftest import truncate_all
from tests.fakes.twilio_server import FakeTwilio
from tests.sending_support import bot_environment, serving_bot
from tests.test_webhooks import Served, count

pytest_plugins = ["tests.conftest_channels"]

SETTINGS = Settings(business_name="Kowalski Motors")


@pytest.fixture
def served(db, fake_twilio, sms) -> Iterator[Served]:
    """The webhooks served as `run` serves them, without the inbox worker and the sender."""
    transports = Transports(by_channel={"sms": sms})
    app = webhook_app(db, channel_settings(twilio=fake_twilio), transports)
    with serving(app) as url:
        yield Served(url, app, transports)


def post(url: str, fake: FakeTwilio, sender: str, text: str, sid: str | None = None) -> int:
    """Twilio delivering an SMS from `sender` to the app at `url`, signed as Twilio signs."""
    status, _ = fake.send_inbound_sms(f"{url}/webhooks/twilio/sms", sender, OUR_NUMBER, text,
                                      message_sid=sid, signature_url=f"{PUBLIC}/webhooks/twilio/sms")  # fmt: skip
    return status


def stored(db: sessionmaker[Session], sender: str, text: str, sid: str) -> int:
    """What the webhook does: store the message for its turn; returns its id."""
    with db.begin() as session:
        store(session, Inbound("sms", sender, text, sid, utcnow()))
        return session.scalars(select(Message.id).where(Message.provider_id == sid)).one()


def open_survey(session: Session, customer: Customer) -> CheckIn:
    """A survey that went out an hour ago (real clock, as `run` has it) and waits for a score."""
    sent = utcnow() - timedelta(hours=1)
    checkin = CheckIn(customer_id=customer.id, kind="periodic", dedupe_key=f"open-{customer.id}",
                      due_at=sent, status="sent", sent_at=sent, channel="sms")  # fmt: skip
    session.add(checkin)
    session.commit()
    return checkin


# -- acknowledged first, answered after ----------------------------------------------------


def test_a_webhook_is_acknowledged_before_its_turn_and_the_customer_is_still_answered(
    db, session, cast, served: Served, fake_twilio
) -> None:
    john = cast["en"]
    checkin = survey_for(session, john, channel="sms", address=john.phone)
    assert served.drain(db)["sent"] == 1

    assert post(served.url, fake_twilio, john.phone, "9 great service") == 200

    # Acknowledged with the message stored, and nothing else done yet.
    [inbound] = messages(session, direction="in")
    assert (inbound.body, inbound.processed_at, inbound.customer_id) == (
        "9 great service",
        None,
        None,
    )
    assert count(session, Response) == 0

    assert served.take_turns(db) == {"done": 1}
    assert served.drain(db)["sent"] == 1
    session.expire_all()
    [response] = session.scalars(select(Response)).all()
    assert (response.checkin_id, response.score) == (checkin.id, 9)
    [inbound] = messages(session, direction="in")
    assert inbound.processed_at is not None and inbound.customer_id == john.id
    assert [m["to"] for m in fake_twilio.messages] == [john.phone, john.phone]  # survey, thanks


def test_a_repeated_message_sid_is_stored_once_and_answered_once(
    db, session, cast, served: Served, fake_twilio
) -> None:
    john = cast["en"]
    survey_for(session, john, channel="sms", address=john.phone)
    served.drain(db)
    sid = "SM" + "e" * 32

    # Twilio retries before the turn is taken, and once more after.
    assert post(served.url, fake_twilio, john.phone, "4", sid) == 200
    assert post(served.url, fake_twilio, john.phone, "4", sid) == 200
    assert served.take_turns(db) == {"done": 1}
    assert post(served.url, fake_twilio, john.phone, "4", sid) == 200
    assert served.take_turns(db) == {}

    assert count(session, Message, Message.provider_id == sid) == 1
    assert [r.score for r in session.scalars(select(Response))] == [4]
    served.drain(db)
    assert Counter(m["to"] for m in fake_twilio.messages)[john.phone] == 2  # survey, one answer


def test_a_turn_taken_twice_changes_nothing_the_second_time(db, session, cast) -> None:
    john = cast["en"]
    open_survey(session, john)
    message_id = stored(db, john.phone, "10", "SM-twice")

    assert take_turn(db, message_id, SETTINGS) == "done"
    assert take_turn(db, message_id, SETTINGS) == "taken"

    assert count(session, Response) == 1
    assert count(session, Message, Message.direction == "out") == 1  # one thanks


# -- in order, per sender ----------------------------------------------------------------------


def test_a_senders_messages_are_taken_in_the_order_they_came(
    db, session, cast, served: Served, fake_twilio
) -> None:
    john = cast["en"]
    survey_for(session, john, channel="sms", address=john.phone)
    served.drain(db)

    for text in ("8", "faster paperwork please"):
        assert post(served.url, fake_twilio, john.phone, text) == 200
    assert served.take_turns(db) == {"done": 2}

    session.expire_all()
    [response] = session.scalars(select(Response)).all()
    assert (response.score, response.comment, response.awaiting_comment) == (
        8,
        "faster paperwork please",
        False,
    )
    purposes = [m.purpose for m in messages(session, direction="out")]
    assert purposes == ["survey", "followup", "thanks"]  # the question, then thanks for the answer


def test_only_each_senders_oldest_waiting_message_is_due(db, session, cast) -> None:
    john, agnieszka = cast["en"], cast["pl"]
    first = stored(db, john.phone, "7", "SM-1")
    second = stored(db, john.phone, "more legroom", "SM-2")
    hers = stored(db, agnieszka.phone, "10", "SM-3")

    with db() as reading:
        assert due_turns(reading, utcnow()) == [first, hers]
    assert take_turn(db, second, SETTINGS) == "later"  # John's first message goes first
    assert count(session, Message, Message.id == second, Message.processed_at.is_(None)) == 1

    assert take_turn(db, first, SETTINGS) == "done"
    with db() as reading:
        assert due_turns(reading, utcnow()) == [second, hers]


def test_two_workers_at_once_keep_each_senders_order(db, session, cast) -> None:
    customers = [cast[language] for language in ("en", "pl", "uk", "ru", "th")]
    for customer in customers:
        open_survey(session, customer)
    for n, customer in enumerate(customers):
        stored(db, customer.phone, "7", f"SM-score-{n}")
    for n, customer in enumerate(customers):
        stored(db, customer.phone, f"comment {n}", f"SM-comment-{n}")

    outcomes: list[Counter[str]] = []
    workers = [
        threading.Thread(target=lambda: outcomes.append(take_turns(db, SETTINGS))) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    outcomes.append(take_turns(db, SETTINGS))  # what either left to the other

    session.expire_all()
    responses = {r.customer_id: r for r in session.scalars(select(Response))}
    for n, customer in enumerate(customers):
        assert (responses[customer.id].score, responses[customer.id].comment) == (7, f"comment {n}")
    assert sum(outcome["done"] for outcome in outcomes) == 10  # each turn taken once
    assert count(session, Message, Message.direction == "in", Message.processed_at.is_(None)) == 0


# -- failures and crashes ----------------------------------------------------------------------


def test_a_turn_that_fails_rolls_back_is_tried_again_and_at_last_given_up_on(
    db, session, cast, monkeypatch
) -> None:
    john = cast["en"]
    open_survey(session, john)
    message_id = stored(db, john.phone, "6", "SM-fails")
    later = stored(db, john.phone, "the seats", "SM-after")

    def broken(*args: object) -> None:
        raise RuntimeError("a bug in the conversation")

    monkeypatch.setattr(turns_module, "hand_on", broken)
    assert take_turn(db, message_id, SETTINGS) == "failed"
    session.expire_all()
    failed = session.get_one(Message, message_id)
    assert (failed.processed_at, failed.attempts, failed.customer_id) == (None, 1, None)
    assert "a bug in the conversation" in (failed.error or "")
    with db() as reading:
        assert due_turns(reading, utcnow()) == []  # it waits for its retry, and John's next too
        assert due_turns(reading, utcnow() + timedelta(seconds=2)) == [message_id]

    for _ in range(MAX_ATTEMPTS - 1):
        assert take_turn(db, message_id, SETTINGS) == "failed"
    session.expire_all()
    assert session.get_one(Message, message_id).processed_at is not None  # given up on
    monkeypatch.undo()
    assert take_turns(db, SETTINGS) == {"done": 1}  # John's next message is not held forever
    assert session.get_one(Message, later).processed_at is not None


def test_a_message_acknowledged_by_a_process_that_died_is_answered_after_restart(
    db, session, database_url, cast, fake_twilio, tmp_path
) -> None:
    john = cast["en"]
    open_survey(session, john)
    # The first process acknowledges the webhook, then dies before taking the turn.
    first = webhook_app(db, channel_settings(twilio=fake_twilio))
    with serving(first) as url:
        assert post(url, fake_twilio, john.phone, "9") == 200
    assert count(session, Message, Message.processed_at.is_(None)) == 1

    environment = bot_environment(database_url, twilio=fake_twilio)
    with serving_bot(environment, tmp_path / "run.log"):
        [answer] = fake_twilio.wait_for(lambda: fake_twilio.messages, timeout=60)

    assert answer["to"] == john.phone
    assert [m["to"] for m in fake_twilio.messages] == [john.phone]
    assert [r.score for r in session.scalars(select(Response))] == [9]


@pytest.mark.postgres
def test_a_process_killed_in_the_middle_of_a_turn_leaves_it_whole_to_the_next(
    postgres_engine: Engine, fake_twilio, tmp_path
) -> None:
    truncate_all(postgres_engine)
    db = session_factory(postgres_engine)
    with db.begin() as session:
        john = Customer(external_id="c-john", name="John Smith", phone="+14155550101")
        session.add(john)
    with db() as session:
        open_survey(session, session.get_one(Customer, john.id))
    environment = bot_environment(
        postgres_engine.url.render_as_string(hide_password=False), twilio=fake_twilio
    )

    with serving_bot(environment, tmp_path / "first.log") as (url, pid), db() as holder:
        # Someone else holds John's row: the turn starts, then waits for it.
        holder.execute(select(Customer).where(Customer.id == john.id).with_for_update())
        assert post(url, fake_twilio, john.phone, "9 lovely car") == 200
        os.killpg(pid, signal.SIGKILL)
        holder.commit()

    with db() as session:
        assert session.scalar(select(func.count(Response.id))) == 0  # its work rolled back
    with serving_bot(environment, tmp_path / "second.log"):
        fake_twilio.wait_for(lambda: fake_twilio.messages, timeout=60)

    with db() as session:
        assert [(r.score, r.comment) for r in session.scalars(select(Response))] == [
            (9, "lovely car")
        ]
    assert [m["to"] for m in fake_twilio.messages] == [john.phone]
