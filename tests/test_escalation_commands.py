"""Reps act by SMS and by Telegram: ACK, DONE with a note, the Resolve button and its note, ASSIGN."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from clock import utcnow
from conversation.inbound import Inbound, receive
from escalation.commands import Command, looks_like_rep_command, parse_command
from messaging.channels import ConsoleChannel, Transports
from messaging.outbox import drain
from models import Escalation, EscalationEvent, Message, Rep
from settings import Settings
from tests.channel_support import SECRET, channel_settings, serving, wait_until, webhook_app
from tests.conftest import at
from tests.conversation_support import Phone, sent_survey

# The fake Telegram server and a channel pointed at it, for the one end-to-end test.
pytest_plugins = ["tests.conftest_channels"]

JOHN = "+14155550101"
ANNA = "+48600000002"  # John's rep
MAREK = "+48600000001"  # her manager
ANNA_CHAT = "777001"
PIOTR = "+48600000003"


@pytest.fixture
def escalated(session, cast, phone) -> Escalation:
    """John scored 3 at 16:00; Anna (SMS, and Telegram chat 777001) was alerted."""
    cast["rep"].telegram_chat_id = int(ANNA_CHAT)
    session.commit()
    sent_survey(session, cast["en"])
    phone.say(JOHN, "3 it rattles", "2026-03-02 16:00")
    return state(session)


@pytest.fixture
def piotr(session, cast) -> Rep:
    """A rep in another team (no manager), reachable by SMS."""
    rep = Rep(external_id="rep-2", name="Piotr Zieliński", phone=PIOTR)
    session.add(rep)
    session.commit()
    return rep


def state(session: Session) -> Escalation:
    session.expire_all()
    [escalation] = session.scalars(select(Escalation)).all()
    return escalation


def trail(session: Session) -> list[tuple[str, str, str]]:
    rows = session.scalars(
        select(EscalationEvent)
        .where(EscalationEvent.action.not_in(("opened", "comment")))
        .order_by(EscalationEvent.id)
    )
    return [(e.actor, e.action, e.detail) for e in rows]


def on_telegram(phone: Phone, text: str, when: str, chat: str = ANNA_CHAT):
    return phone.say(chat, text, when, channel="telegram")


# -- the grammar -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("ACK 12", Command("ack", 12, "")),
        ("ack #12", Command("ack", 12, "")),
        ("  Ack12 ", Command("ack", 12, "")),
        ("/ack 12", Command("ack", 12, "")),
        ("/ack@AftercareBot 12", Command("ack", 12, "")),
        ("ACK", Command("ack", None, "")),
        ("/ack", Command("ack", None, "")),
        ("DONE 12 called and replaced the part", Command("resolve", 12, "called and replaced the part")),
        ("done #12 line one\nline two", Command("resolve", 12, "line one\nline two")),
        ("/resolve 12", Command("resolve", 12, "")),
        ("resolve 12 fixed", Command("resolve", 12, "fixed")),
        ("Done", Command("resolve", None, "")),
        ("ASSIGN 12 rep-2", Command("assign", 12, "rep-2")),
        ("/assign 12 rep-2", Command("assign", 12, "rep-2")),
        ("Acknowledged, calling him now", None),
        ("/acknowledge 12", None),
        ("/resolve fixed it", Command("resolve", None, "fixed it")),
        ("ack 1234567890", None),
        ("done it yesterday", None),
        ("Replaced the battery", None),
        ("", None),
    ],
)  # fmt: skip
def test_commands_are_read_from_sms_and_telegram_text(text: str, command: Command | None) -> None:
    assert parse_command(text) == command


def test_a_bare_word_is_not_taken_for_a_command_from_someone_who_is_also_a_customer() -> None:
    # receive() asks this before deciding a rep who is also a customer speaks as a rep.
    assert looks_like_rep_command("ACK 3") and looks_like_rep_command("assign 3 rep-2")
    assert not looks_like_rep_command("done") and not looks_like_rep_command("Acknowledged")


# -- SMS -------------------------------------------------------------------------------


def test_ack_by_sms_acknowledges_and_confirms_with_the_customers_number(
    session, cast, phone, escalated
) -> None:
    receipt = phone.say(ANNA, "ACK 1", "2026-03-02 16:10")

    assert (receipt.action, receipt.detail) == ("rep_command", "acknowledged")
    escalation = state(session)
    assert (escalation.status, escalation.acknowledged_at, escalation.acknowledged_by_id) == (
        "acknowledged",
        at("2026-03-02 16:10"),
        cast["rep"].id,
    )
    assert phone.received(ANNA)[-1] == (
        "Escalation #1 is yours: John Smith, +14155550101. "
        "When it is fixed, reply DONE 1 and a short note."
    )
    assert trail(session) == [("Anna Kowalska (rep-1)", "acknowledged", "via sms")]


def test_acking_twice_changes_nothing_and_says_so(session, cast, phone, escalated) -> None:
    phone.say(ANNA, "ACK 1", "2026-03-02 16:10")
    receipt = phone.say(ANNA, "ack 1", "2026-03-02 16:20")

    assert receipt.detail == "already_acknowledged"
    assert state(session).acknowledged_at == at("2026-03-02 16:10")
    assert phone.received(ANNA)[-1] == "Escalation #1 was already acknowledged by Anna Kowalska."
    assert len(trail(session)) == 1


def test_done_with_a_note_resolves_and_promises_the_recovery_check(
    session, cast, phone, escalated
) -> None:
    receipt = phone.say(ANNA, "DONE 1 Called him, replaced the part", "2026-03-02 17:00")

    assert receipt.detail == "resolved"
    escalation = state(session)
    assert (
        escalation.status,
        escalation.resolved_at,
        escalation.resolved_by_id,
        escalation.resolution_note,
    ) == ("resolved", at("2026-03-02 17:00"), cast["rep"].id, "Called him, replaced the part")
    # Resolving what nobody acknowledged acknowledges it too (someone clearly took it).
    assert escalation.acknowledged_at == at("2026-03-02 17:00")
    assert phone.received(ANNA)[-1] == (
        "Escalation #1 resolved. Note saved. We will ask the customer again in 3 days."
    )


def test_done_without_a_note_asks_for_it_and_takes_the_next_text(
    session, cast, phone, escalated
) -> None:
    assert phone.say(ANNA, "DONE 1", "2026-03-02 17:00").detail == "note_requested"
    assert state(session).status == "acknowledged"
    assert "Reply with a short note" in phone.received(ANNA)[-1]

    assert phone.say(ANNA, "Replaced the part", "2026-03-02 17:05").detail == "resolved"
    escalation = state(session)
    assert (escalation.status, escalation.resolution_note) == ("resolved", "Replaced the part")
    session.refresh(cast["rep"])
    assert cast["rep"].awaiting_note_escalation_id is None


# -- Telegram (a button arrives as "/ack 1" or "/resolve 1") --------------------------


def test_the_acknowledge_button_acknowledges_and_confirms_in_the_chat(
    session, cast, phone, escalated
) -> None:
    receipt = on_telegram(phone, "/ack 1", "2026-03-02 16:10")

    assert receipt.detail == "acknowledged"
    assert state(session).status == "acknowledged"
    assert phone.received(ANNA_CHAT)[-1].endswith("When it is fixed, tap Resolve under the alert.")
    assert trail(session) == [("Anna Kowalska (rep-1)", "acknowledged", "via telegram")]


def test_the_resolve_button_asks_for_a_note_and_the_next_message_is_it(
    session, cast, phone, escalated
) -> None:
    assert on_telegram(phone, "/resolve 1", "2026-03-02 17:00").detail == "note_requested"
    assert phone.received(ANNA_CHAT)[-1] == (
        "How was escalation #1 resolved? Reply with a short note; your next message is saved as it."
    )
    assert state(session).status == "acknowledged"  # tapping Resolve is taking it

    receipt = on_telegram(phone, "Swapped the seat belt, he is happy", "2026-03-02 17:03")

    assert receipt.detail == "resolved"
    escalation = state(session)
    assert (escalation.status, escalation.resolution_note, escalation.resolved_at) == (
        "resolved",
        "Swapped the seat belt, he is happy",
        at("2026-03-02 17:03"),
    )


@pytest.mark.parametrize(
    ("channel", "address", "messages"),
    [
        ("sms", ANNA, ["ACK 1", "DONE 1 Replaced the part"]),
        ("sms", ANNA, ["ACK 1", "DONE 1", "Replaced the part"]),
        ("telegram", ANNA_CHAT, ["/ack 1", "/resolve 1", "Replaced the part"]),
        ("telegram", ANNA_CHAT, ["/resolve 1", "Replaced the part"]),
        ("telegram", ANNA_CHAT, ["/ack 1", "/resolve 1 Replaced the part"]),
    ],
)
def test_sms_and_telegram_end_in_the_same_state(
    session, cast, phone, escalated, channel, address, messages
) -> None:
    for minute, text in enumerate(messages, start=10):
        phone.say(address, text, f"2026-03-02 16:{minute}", channel=channel)
    escalation = state(session)
    assert (
        escalation.status,
        escalation.resolution_note,
        escalation.acknowledged_by_id,
        escalation.resolved_by_id,
        escalation.acknowledged_at is not None,
    ) == ("resolved", "Replaced the part", cast["rep"].id, cast["rep"].id, True)
    assert [action for _, action, _ in trail(session)] == ["acknowledged", "resolved"]


def test_a_note_owed_for_a_day_is_forgotten(session, cast, phone, escalated) -> None:
    on_telegram(phone, "/resolve 1", "2026-03-02 17:00")
    receipt = on_telegram(phone, "Good morning team", "2026-03-03 18:00")
    assert receipt.detail == "help"
    assert state(session).status == "acknowledged"
    session.refresh(cast["rep"])
    assert cast["rep"].awaiting_note_escalation_id is None


def test_a_command_while_a_note_is_owed_is_still_a_command(session, cast, phone, escalated) -> None:
    on_telegram(phone, "/resolve 1", "2026-03-02 17:00")
    assert on_telegram(phone, "/ack 1", "2026-03-02 17:01").detail == "already_acknowledged"
    assert on_telegram(phone, "Fixed it", "2026-03-02 17:02").detail == "resolved"


# -- who may act, and on what ----------------------------------------------------------


def test_an_unknown_number_gets_a_clear_answer(session, cast, phone, escalated) -> None:
    assert phone.say(ANNA, "ACK 99", "2026-03-02 16:10").detail == "unknown_escalation"
    assert phone.received(ANNA)[-1] == "There is no escalation #99. Check the number in the alert."
    assert state(session).status == "open"


def test_a_rep_cannot_act_on_someone_elses_escalation(
    session, cast, phone, escalated, piotr
) -> None:
    assert phone.say(PIOTR, "DONE 1 not mine", "2026-03-02 16:10").detail == "not_allowed"
    assert phone.received(PIOTR) == [
        "Escalation #1 is assigned to Anna Kowalska. "
        "Only that rep, their manager or an admin can act on it."
    ]
    assert state(session).status == "open"


def test_a_manager_can_act_on_their_teams_escalations(session, cast, phone, escalated) -> None:
    assert phone.say(MAREK, "ACK 1", "2026-03-02 16:10").detail == "acknowledged"
    assert state(session).acknowledged_by_id == cast["manager"].id
    assert phone.say(MAREK, "DONE 1 Called him myself", "2026-03-02 16:30").detail == "resolved"
    assert state(session).resolved_by_id == cast["manager"].id


def test_ack_alone_applies_to_the_reps_only_waiting_escalation(
    session, cast, phone, escalated
) -> None:
    assert phone.say(ANNA, "ACK", "2026-03-02 16:10").detail == "acknowledged"


def test_ack_alone_with_several_waiting_lists_them(session, cast, phone, escalated) -> None:
    phone.say("+48601234567", "Where is my order?", "2026-03-02 16:05")  # Agnieszka, also Anna's
    assert phone.say(ANNA, "ACK", "2026-03-02 16:10").detail == "unknown_escalation"
    assert (
        phone.received(ANNA)[-1] == "Which escalation? Reply ACK followed by its number (#1, #2)."
    )


def test_a_manager_reassigns_and_the_new_rep_is_alerted(
    session, cast, phone, escalated, piotr
) -> None:
    receipt = phone.say(MAREK, "ASSIGN 1 rep-2", "2026-03-02 16:30")

    assert receipt.detail == "reassigned"
    assert state(session).rep_id == piotr.id
    assert phone.received(MAREK) == [
        "Escalation #1 is now with Piotr Zieliński; they have been alerted."
    ]
    [alert] = phone.received(PIOTR)
    assert alert.startswith("Piotr, John Smith needs you: score 3/10")
    assert "ACK 1" in alert
    assert trail(session) == [
        (
            "Marek Nowak (mgr-1)",
            "reassigned",
            "from Anna Kowalska (rep-1) to Piotr Zieliński (rep-2)",
        )
    ]
    # Now Piotr's, so he may act on it.
    assert phone.say(PIOTR, "ACK 1", "2026-03-02 16:31").detail == "acknowledged"


def test_only_managers_reassign(session, cast, phone, escalated, piotr) -> None:
    assert phone.say(ANNA, "ASSIGN 1 rep-2", "2026-03-02 16:30").detail == "not_allowed"
    assert state(session).rep_id == cast["rep"].id


def test_reassigning_to_someone_unknown_says_so(session, cast, phone, escalated) -> None:
    assert phone.say(MAREK, "ASSIGN 1 rep-9", "2026-03-02 16:30").detail == "unknown_rep"
    assert phone.received(MAREK) == ["There is no rep with the id 'rep-9'."]


def test_anything_else_gets_the_commands_at_most_every_ten_minutes(
    session, cast, phone, escalated
) -> None:
    assert phone.say(ANNA, "Thanks!", "2026-03-02 16:10").detail == "help"
    assert phone.say(ANNA, "ok", "2026-03-02 16:15").detail == "rep_message"
    assert phone.say(ANNA, "?", "2026-03-02 16:21").detail == "help"
    helps = [t for t in phone.received(ANNA) if t.startswith("Commands:")]
    assert len(helps) == 2
    assert "ACK 12" in helps[0] and "DONE 12" in helps[0] and "ASSIGN" not in helps[0]
    phone.say(MAREK, "hi", "2026-03-02 16:30")
    assert "ASSIGN 12 rep-id" in phone.received(MAREK)[-1]


def test_rep_replies_are_not_in_any_customers_history(session, cast, phone, escalated) -> None:
    phone.say(ANNA, "ACK 1", "2026-03-02 16:10")
    session.expire_all()
    [reply] = session.scalars(select(Message).where(Message.purpose == "rep_reply")).all()
    assert (reply.rep_id, reply.customer_id, reply.address) == (cast["rep"].id, None, ANNA)


# -- the real python-telegram-bot: alert, button taps and the note, through the webhook -----


def test_telegram_buttons_and_the_note_work_end_to_end(
    db, session, cast, telegram_channel, fake_telegram
) -> None:
    cast["rep"].telegram_chat_id = int(ANNA_CHAT)
    session.commit()
    sent_survey(session, cast["en"])
    settings = channel_settings(telegram=fake_telegram, telegram_webhook_secret=SECRET)
    transports = Transports(
        by_channel={"telegram": telegram_channel}, fallback=ConsoleChannel(stream=None)
    )
    with db.begin() as writing:
        receive(
            writing,
            at("2026-03-02 16:00"),
            Inbound("sms", JOHN, "3", "SM-john-1", at("2026-03-02 16:00")),
            settings,
        )
    drain(db, utcnow(), transports, settings=Settings())
    [alert] = [s for s in fake_telegram.sent if s["chat_id"] == int(ANNA_CHAT)]

    def tap(data: str) -> None:
        update = fake_telegram.callback_update(int(ANNA_CHAT), data, alert["message_id"])
        assert fake_telegram.post_update(f"{url}/webhooks/telegram", update, SECRET)[0] == 200

    def sent_to_anna() -> list[dict]:
        return [s for s in fake_telegram.sent if s["chat_id"] == int(ANNA_CHAT)]

    app = webhook_app(db, settings, transports)
    with serving(app) as url:
        assert app.state.telegram_bot.ready.wait(5)
        tap("ack:1")
        wait_until(lambda: state(session).status == "acknowledged")
        # The acknowledge button goes; Resolve and the link stay.
        edit = wait_until(
            lambda: [s for s in sent_to_anna() if s["method"] == "editMessageReplyMarkup"]
        )[0]
        assert "resolve:1" in str(edit["reply_markup"]) and "ack:1" not in str(edit["reply_markup"])
        drain(db, utcnow(), transports, settings=Settings())
        assert sent_to_anna()[-1]["text"].startswith("Escalation #1 is yours: John Smith")

        tap("resolve:1")
        wait_until(lambda: "Reply with a short note" in str(_queued_to(session, ANNA_CHAT)))
        drain(db, utcnow(), transports, settings=Settings())
        note = fake_telegram.text_update(int(ANNA_CHAT), "Called him, tightened the panel")
        assert fake_telegram.post_update(f"{url}/webhooks/telegram", note, SECRET)[0] == 200
        wait_until(lambda: state(session).status == "resolved")
        drain(db, utcnow(), transports, settings=Settings())

    escalation = state(session)
    assert escalation.resolution_note == "Called him, tightened the panel"
    assert escalation.acknowledged_by_id == escalation.resolved_by_id == cast["rep"].id
    assert [action for _, action, _ in trail(session)] == ["acknowledged", "resolved"]
    assert sent_to_anna()[-1]["text"].startswith("Escalation #1 resolved. Note saved.")


def _queued_to(session: Session, address: str) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(Message.body).where(Message.address == address, Message.direction == "out")
        )
    )
