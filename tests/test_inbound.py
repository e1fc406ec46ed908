"""The door every inbound message comes through: stored once, sender identified, never a crash."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from conversation.inbound import Inbound, receive
from escalation.commands import looks_like_rep_command
from models import Customer, Escalation, Message
from tests.conftest import at
from tests.conversation_support import JOHN, SETTINGS, sent_survey

NOW = at("2026-03-02 16:00")


def inbound_messages(session) -> list[Message]:
    session.expire_all()
    return list(
        session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id))
    )


def test_a_customer_message_is_stored_with_who_sent_it(session, cast, phone) -> None:
    receipt = phone.say(JOHN, "When is my service due?", "2026-03-02 16:00", provider_id="SM1")
    [message] = inbound_messages(session)
    assert receipt.message_id == message.id and receipt.customer_id == cast["en"].id
    assert (message.channel, message.address, message.body, message.provider_id) == (
        "sms",
        JOHN,
        "When is my service due?",
        "SM1",
    )
    assert (message.status, message.customer_id, message.rep_id, message.created_at) == (
        "received",
        cast["en"].id,
        None,
        NOW,
    )


def test_the_same_provider_id_on_another_channel_is_another_message(session, cast, phone) -> None:
    phone.say(JOHN, "hello", "2026-03-02 16:00", provider_id="42")
    receipt = phone.say(JOHN, "hello", "2026-03-02 16:00", provider_id="42", channel="console")
    assert not receipt.duplicate
    assert len(inbound_messages(session)) == 2


def test_a_redelivered_message_changes_nothing(session, cast, phone) -> None:
    first = phone.say(JOHN, "STOP", "2026-03-02 16:00", provider_id="SM9")
    session.refresh(cast["en"])
    cast["en"].opted_out_at = None  # the customer opted back in some other way meanwhile
    session.commit()
    again = phone.say(JOHN, "STOP", "2026-03-02 16:01", provider_id="SM9")
    assert (again.duplicate, again.action, again.message_id, again.customer_id) == (
        True,
        "duplicate",
        first.message_id,
        cast["en"].id,
    )
    session.refresh(cast["en"])
    assert cast["en"].opted_out_at is None
    assert len(phone.received(JOHN)) == 1


def test_nothing_is_kept_when_the_callers_transaction_rolls_back(db, session, cast) -> None:
    # On SQLite a first SAVEPOINT would commit on release; the insert must stay in our transaction.
    with db() as work:
        work.begin()
        receive(work, NOW, Inbound("sms", JOHN, "9", "SM-rollback", NOW), SETTINGS)
        work.rollback()
    assert inbound_messages(session) == []


def test_a_telegram_customer_is_found_by_chat_id_and_marked_reachable(session, cast, phone) -> None:
    olena = cast["uk"]
    olena.telegram_chat_id, olena.telegram_unreachable_at = 777001, at("2026-03-01 00:00")
    session.commit()
    receipt = phone.say("777001", "Привіт, коли доставка?", "2026-03-02 16:00", channel="telegram")
    assert receipt.customer_id == olena.id and receipt.action == "forwarded"
    session.refresh(olena)
    assert olena.telegram_unreachable_at is None
    [note] = phone.received("777001")
    assert "Олена" in note


def test_the_console_can_stand_in_for_a_telegram_chat(session, cast, phone) -> None:
    cast["ru"].telegram_chat_id = 777002
    session.commit()
    assert (
        phone.say("777002", "спасибо", "2026-03-02 16:00", channel="console").customer_id
        == cast["ru"].id
    )


def test_a_phone_number_is_never_read_as_a_chat_id(session, cast, phone) -> None:
    cast["ru"].telegram_chat_id = 48699999999
    session.commit()
    assert (
        phone.say("+48699999999", "hi", "2026-03-02 16:00", channel="console").action
        == "unknown_sender"
    )


def test_an_unknown_sender_is_stored_and_gets_one_polite_note_a_day(session, cast, phone) -> None:
    stranger = "+15005550006"
    first = phone.say(stranger, "Hi, is the car ready?", "2026-03-02 16:00")
    phone.say(stranger, "Hello??", "2026-03-02 18:00")
    phone.say(stranger, "Anyone?", "2026-03-03 16:30")

    assert (first.action, first.customer_id) == ("unknown_sender", None)
    assert [m.customer_id for m in inbound_messages(session)] == [None, None, None]
    first_note, second_note = phone.received(stranger)
    assert "couldn't match your number" in first_note
    assert first_note == second_note
    assert session.scalar(select(func.count(Escalation.id))) == 0


def test_an_unknown_telegram_sender_is_greeted_by_name_in_their_language(
    session, cast, phone
) -> None:
    phone.say(
        "909",
        "Dzień dobry",
        "2026-03-02 16:00",
        channel="telegram",
        name="Jan Kowalski",
        language="pl-PL",
    )
    [note] = phone.received("909")
    assert "Jan" in note and "couldn't match" not in note


def test_an_unknown_sender_who_says_stop_hears_nothing(session, cast, phone) -> None:
    assert phone.say("+15005550006", "STOP", "2026-03-02 16:00").action == "unknown_sender"
    assert phone.received("+15005550006") == []


@pytest.mark.parametrize("text", ["", "   ", "a\x00b", "🙂" * 2000, "9" * 500])
def test_odd_messages_never_crash(session, cast, phone, text) -> None:
    sent_survey(session, cast["en"])
    receipt = phone.say(JOHN, text, "2026-03-02 16:00")
    assert receipt.action in ("clarify", "forwarded", "scored")
    [message] = inbound_messages(session)
    assert message.body == text.replace("\x00", "")  # PostgreSQL text cannot hold NUL


def test_an_absurdly_long_address_is_stored_cut_to_size(session, cast, phone) -> None:
    receipt = phone.say("x" * 300, "hello", "2026-03-02 16:00", provider_id="p" * 300)
    assert receipt.action == "unknown_sender"
    [message] = inbound_messages(session)
    assert (len(message.address), len(message.provider_id or "")) == (64, 100)
    again = phone.say("x" * 300, "hello", "2026-03-02 16:00", provider_id="p" * 300)
    assert again.duplicate


# ---------------------------------------------------------------- reps


def test_a_rep_command_goes_to_the_escalation_commands_and_is_stored(session, cast, phone) -> None:
    receipt = phone.say("+48600000002", "ACK 12", "2026-03-02 16:00")
    assert (receipt.action, receipt.detail, receipt.customer_id) == (
        "rep_command",
        "unknown_escalation",
        None,
    )
    [message] = inbound_messages(session)
    assert (message.rep_id, message.customer_id, message.body) == (cast["rep"].id, None, "ACK 12")
    assert phone.received("+48600000002") == [
        "There is no escalation #12. Check the number in the alert."
    ]


def test_any_message_from_a_rep_goes_to_the_escalation_commands(session, cast, phone) -> None:
    cast["manager"].telegram_chat_id = 31337
    session.commit()
    receipt = phone.say(
        "31337", "Replaced the battery, customer happy", "2026-03-02 16:00", channel="telegram"
    )
    assert receipt.action == "rep_command"
    assert inbound_messages(session)[0].rep_id == cast["manager"].id


def test_a_rep_who_is_also_a_customer_is_a_customer_unless_commanding(session, cast, phone) -> None:
    session.add(
        Customer(external_id="cust-anna", name="Anna Kowalska", phone="+48600000002", language="pl")
    )
    session.commit()
    assert phone.say("+48600000002", "Kiedy przegląd?", "2026-03-02 16:00").action == "forwarded"
    assert phone.say("+48600000002", "/ack 3", "2026-03-02 16:01").action == "rep_command"


@pytest.mark.parametrize(
    ("text", "is_command"),
    [
        ("/ack", True),
        ("/ack 12", True),
        ("/resolve@AftercareBot 12", True),
        ("ACK 12", True),
        ("ack #12", True),
        ("DONE 12 replaced the part", True),
        ("done12", True),
        ("/done", True),
        ("acknowledged", False),
        ("done", False),
        ("I am done with this car", False),
        ("9", False),
    ],
)
def test_rep_commands_are_recognised(text: str, is_command: bool) -> None:
    assert looks_like_rep_command(text) is is_command


def test_a_shared_number_is_read_as_the_household_member_we_asked(session, cast, phone) -> None:
    partner = Customer(external_id="cust-en-2", name="Mary Smith", phone=JOHN, language="en")
    session.add(partner)
    session.commit()
    sent_survey(session, partner)
    receipt = phone.say(JOHN, "9", "2026-03-02 16:00")
    assert (receipt.customer_id, receipt.action) == (partner.id, "scored")
    assert "Mary" in phone.received(JOHN)[0]


def test_a_delivery_racing_an_uncommitted_one_waits_and_is_a_duplicate(db, session, cast) -> None:
    sent_survey(session, cast["en"])
    inbound = Inbound("sms", JOHN, "9", "SM-race", NOW)
    results = []

    def second_delivery() -> None:
        with db.begin() as other:
            results.append(receive(other, NOW, inbound, SETTINGS))

    with db.begin() as first:
        results.append(receive(first, NOW, inbound, SETTINGS))
        racer = threading.Thread(target=second_delivery)
        racer.start()
        racer.join(timeout=0.5)  # it waits for us: the unique key is taken but not committed
        assert racer.is_alive()
    racer.join(timeout=30)
    assert [(r.duplicate, r.action) for r in results] == [(False, "scored"), (True, "duplicate")]
    assert session.scalar(select(func.count(Message.id)).where(Message.direction == "in")) == 1
