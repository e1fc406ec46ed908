"""Rep alerts: an unhappy customer reaches the right person at once, with what they need to act."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cadence.rules import CadenceRules, save_rules
from escalation.alerts import alert_buttons, language_name, recent_messages, relay_to_rep
from escalation.opening import open_escalation
from messaging.channels import ConsoleChannel, Transports
from messaging.compose import TemplateBook
from messaging.outbox import drain
from models import CheckIn, Escalation, EscalationEvent, Message, Purchase, Response
from settings import Settings
from tests.conftest import at
from tests.conversation_support import sent_survey

pytest_plugins = ["tests.conftest_channels"]

JOHN = "+14155550101"
ANNA = "+48600000002"  # John's rep
MAREK = "+48600000001"  # her manager
NOW = "2026-03-02 16:00"


def survey_about_a_car(session: Session, cast) -> CheckIn:
    """John's post-delivery survey about his Skoda, sent at 15:00, with the survey text on record."""
    john = cast["en"]
    purchase = Purchase(external_id="ord-1", customer=john, product="Skoda Octavia", category="car")
    session.add(purchase)
    session.flush()
    checkin = sent_survey(session, john)
    checkin.purchase_id = purchase.id
    session.add(
        Message(
            direction="out",
            channel="sms",
            address=JOHN,
            body="Hi John, how likely are you to recommend Kowalski Motors? Reply 0-10",
            purpose="survey",
            status="sent",
            customer_id=john.id,
            checkin_id=checkin.id,
            created_at=at("2026-03-02 15:00"),
        )
    )
    session.commit()
    return checkin


def events(session: Session) -> list[tuple[str, str]]:
    session.expire_all()
    rows = session.scalars(select(EscalationEvent).order_by(EscalationEvent.id))
    return [(e.action, e.detail) for e in rows]


def only_escalation(session: Session) -> Escalation:
    session.expire_all()
    [escalation] = session.scalars(select(Escalation)).all()
    return escalation


def test_a_detractor_reaches_their_rep_at_once_with_everything_needed(session, cast, phone) -> None:
    survey_about_a_car(session, cast)
    phone.say(JOHN, "3 - the car was dirty inside", NOW)

    [alert] = phone.received(ANNA)
    assert alert.startswith("Anna, John Smith needs you: score 3/10 (Skoda Octavia).")
    for expected in (
        'Comment: "the car was dirty inside"',
        f"Phone: {JOHN} | Language: English",
        "- Bot: Hi John, how likely are you to recommend Kowalski Motors? Reply 0-10",
        "- John: 3 - the car was dirty inside",
        "within 120 minutes",
        "Reply ACK 1 when you take it, and DONE 1 followed by a note",
    ):
        assert expected in alert
    escalation = only_escalation(session)
    assert (escalation.rep_id, escalation.alerted_at) == (cast["rep"].id, at(NOW))
    assert phone.received(MAREK) == []


def test_the_alert_is_the_reps_message_not_the_customers(session, cast, phone) -> None:
    survey_about_a_car(session, cast)
    phone.say(JOHN, "2", NOW)
    session.expire_all()
    [alert] = session.scalars(select(Message).where(Message.purpose == "rep_alert")).all()
    assert (alert.rep_id, alert.customer_id, alert.channel, alert.address) == (
        cast["rep"].id,
        None,
        "sms",
        ANNA,
    )


def test_a_rep_on_telegram_gets_the_alert_there_with_buttons(db, session, cast, console) -> None:
    anna = cast["rep"]
    anna.telegram_chat_id = 777001
    session.commit()
    checkin = survey_about_a_car(session, cast)
    response = _response(session, checkin, score=1)
    settings = Settings(public_url="https://care.example.com/")
    open_escalation(
        session,
        at(NOW),
        customer=cast["en"],
        kind="detractor",
        response=response,
        rules=CadenceRules(),
        settings=settings,
    )
    session.commit()
    drain(db, at(NOW), Transports(fallback=console), settings=Settings())

    [sent] = [m for m in console.sent if m.to == "777001"]
    assert "Use the buttons below" in sent.text and "ACK" not in sent.text
    assert [[(b.text, b.data, b.url) for b in row] for row in sent.buttons or []] == [
        [("Acknowledge", "ack:1", None), ("Resolve", "resolve:1", None)],
        [("Open customer", None, "https://care.example.com/admin/customers/cust-en")],
    ]
    assert console.to(ANNA) == []  # Telegram instead of SMS, not as well


def test_without_a_public_https_address_the_link_button_is_left_out(cast, session) -> None:
    escalation = Escalation(id=5, customer_id=cast["en"].id)
    for url in ("http://127.0.0.1:8000", "http://care.example.com"):
        buttons = alert_buttons(escalation, cast["en"], Settings(public_url=url))
        assert [b.data for row in buttons for b in row] == ["ack:5", "resolve:5"]


def test_once_acknowledged_an_alert_offers_only_resolve(cast) -> None:
    escalation = Escalation(id=5, customer_id=cast["en"].id, status="acknowledged")
    buttons = alert_buttons(escalation, cast["en"], Settings())
    assert [b.data for row in buttons for b in row] == ["resolve:5"]


def test_what_the_customer_writes_later_can_be_relayed_to_the_rep(
    db, session, cast, phone, console
) -> None:
    survey_about_a_car(session, cast)
    phone.say(JOHN, "3", NOW)
    escalation = only_escalation(session)
    relay_to_rep(
        session, at("2026-03-02 16:05"), escalation, "The seat is torn", Settings(), TemplateBook()
    )
    session.commit()
    drain(db, at("2026-03-02 16:05"), Transports(fallback=console), settings=Settings())
    assert phone.received(ANNA)[-1] == (
        "Anna, John Smith (+14155550101) wrote about escalation #1:\n"
        '"The seat is torn"\n'
        "Please get back to them directly.\n"
        "Reply ACK 1 when you take it, and DONE 1 followed by a note when it is resolved."
    )
    escalation.status = "resolved"
    assert relay_to_rep(session, at(NOW), escalation, "x", Settings(), TemplateBook()) is None


def test_a_message_for_a_human_reaches_the_rep_as_a_needs_answer_alert(
    session, cast, phone
) -> None:
    phone.say(JOHN, "When is my next service due?", NOW)
    [alert] = phone.received(ANNA)
    assert alert == (
        "Anna, John Smith (+14155550101) wrote about escalation #1:\n"
        '"When is my next service due?"\n'
        "Please get back to them directly.\n"
        "Reply ACK 1 when you take it, and DONE 1 followed by a note when it is resolved."
    )
    assert only_escalation(session).alerted_at == at(NOW)


def test_later_messages_join_the_open_escalation_and_are_relayed(session, cast, phone) -> None:
    phone.say(JOHN, "When is my next service due?", NOW)
    phone.say(JOHN, "Hello?", "2026-03-02 16:30")
    assert session.scalar(select(func.count(Escalation.id))) == 1
    first, relayed = phone.received(ANNA)
    assert "escalation #1" in relayed and '"Hello?"' in relayed


def test_the_same_reply_delivered_twice_alerts_once(session, cast, phone) -> None:
    survey_about_a_car(session, cast)
    phone.say(JOHN, "3", NOW, provider_id="SM1")
    phone.say(JOHN, "3", NOW, provider_id="SM1")
    assert len(phone.received(ANNA)) == 1


def test_an_opted_out_customers_message_still_reaches_the_rep(session, cast, phone) -> None:
    cast["en"].opted_out_at = at("2026-03-01 10:00")
    session.commit()
    phone.say(JOHN, "Why do I still have no invoice?", NOW)
    assert phone.received(JOHN) == []  # the bot stays silent, as promised
    [alert] = phone.received(ANNA)
    assert "Why do I still have no invoice?" in alert


def test_a_rep_who_cannot_be_reached_is_skipped_for_their_manager_and_the_trail_says_why(
    session, cast, phone
) -> None:
    cast["rep"].phone = None
    session.commit()
    survey_about_a_car(session, cast)
    phone.say(JOHN, "4", NOW)

    [alert] = phone.received(MAREK)
    assert alert.startswith("Marek, John Smith needs you: score 4/10")
    assert events(session)[-1] == (
        "alert_rerouted",
        "rep_alert to Marek Nowak by sms: Anna Kowalska has no phone and no Telegram chat",
    )
    escalation = only_escalation(session)
    assert escalation.rep_id == cast["rep"].id and escalation.alerted_at == at(NOW)
    # Not an SLA escalation: the manager will still hear if nobody acknowledges in time.
    assert escalation.escalated_to_manager_at is None


def test_with_nobody_reachable_the_trail_says_so(session, cast, phone) -> None:
    cast["rep"].phone = None
    cast["manager"].phone = None
    session.commit()
    survey_about_a_car(session, cast)
    phone.say(JOHN, "4", NOW)

    assert events(session)[-1] == (
        "not_alerted",
        "Anna Kowalska has no phone and no Telegram chat, and no manager can be reached",
    )
    assert only_escalation(session).alerted_at is None


def test_the_alert_says_how_long_is_left_on_the_sla(session, cast, phone) -> None:
    save_rules(session, CadenceRules(escalation_sla_hours=0.5))
    session.commit()
    survey_about_a_car(session, cast)
    phone.say(JOHN, "0", NOW)
    assert "within 30 minutes" in phone.received(ANNA)[0]


def test_recent_messages_are_the_last_four_seen_each_on_one_short_line(session, cast) -> None:
    john = cast["en"]
    for n, (direction, status) in enumerate(
        [("out", "sent"), ("in", "received"), ("out", "sent"), ("in", "received"), ("out", "sent")]
        + [("out", "queued"), ("out", "cancelled")]
    ):
        session.add(
            Message(
                direction=direction,
                channel="sms",
                body=f"message {n}\nwith a second line " + "x" * (200 if n == 3 else 0),
                status=status,
                customer_id=john.id,
                provider_id=f"p{n}",
            )
        )
    session.commit()
    lines = recent_messages(session, john)
    assert [line["ours"] for line in lines] == [False, True, False, True]
    assert lines[0] == {"ours": False, "who": "John", "text": "message 1 with a second line"}
    assert len(lines[2]["text"]) == 120 and lines[2]["text"].endswith("...")


def test_recent_messages_go_by_when_they_were_sent_not_by_when_they_were_stored(
    session, cast
) -> None:
    john = cast["en"]
    for n, (direction, hours_ago) in enumerate([("out", 1), ("in", 0), ("out", 30), ("in", 29)]):
        session.add(
            Message(
                direction=direction,
                channel="sms",
                body=f"{hours_ago} hours ago",
                status="sent" if direction == "out" else "received",
                customer_id=john.id,
                provider_id=f"p{n}",
                created_at=at(NOW) - timedelta(hours=hours_ago),
            )
        )
    session.commit()
    texts = [line["text"] for line in recent_messages(session, john)]
    assert texts == ["30 hours ago", "29 hours ago", "1 hours ago", "0 hours ago"]


def test_languages_are_named_for_the_rep() -> None:
    assert [language_name(code) for code in ("en", "pl", "uk", "ru", "th", "xx")] == [
        "English",
        "Polish",
        "Ukrainian",
        "Russian",
        "Thai",
        "xx",
    ]


# -- through the real python-telegram-bot, against the fake Bot API ---------------------


def test_a_telegram_alert_arrives_in_the_reps_chat_with_its_keyboard(
    db, session, cast, telegram_channel, fake_telegram
) -> None:
    anna = cast["rep"]
    anna.telegram_chat_id = 777001
    session.commit()
    checkin = survey_about_a_car(session, cast)
    open_escalation(
        session,
        at(NOW),
        customer=cast["en"],
        kind="detractor",
        response=_response(session, checkin, score=2, comment="Scratched bumper"),
        rules=CadenceRules(),
        settings=Settings(public_url="https://care.example.com"),
    )
    session.commit()
    transports = Transports(
        by_channel={"telegram": telegram_channel}, fallback=ConsoleChannel(stream=None)
    )
    assert drain(db, at(NOW), transports, settings=Settings())["sent"] == 1

    [sent] = fake_telegram.sent
    assert sent["chat_id"] == 777001
    assert "John Smith needs you: score 2/10" in sent["text"]
    assert 'Comment: "Scratched bumper"' in sent["text"]
    markup = sent["reply_markup"]
    keyboard = (json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"]
    assert [[b.get("callback_data") or b.get("url") for b in row] for row in keyboard] == [
        ["ack:1", "resolve:1"],
        ["https://care.example.com/admin/customers/cust-en"],
    ]


# -- helpers ---------------------------------------------------------------------------


def _response(session: Session, checkin: CheckIn, *, score: int, comment: str = "") -> Response:
    checkin.status = "answered"
    response = Response(
        checkin_id=checkin.id,
        customer_id=checkin.customer_id,
        score=score,
        category="detractor",
        comment=comment,
        received_at=at(NOW),
    )
    session.add(response)
    session.flush()
    return response


def test_the_answer_to_what_went_wrong_reaches_the_rep(db, session, cast, phone, console) -> None:
    survey_about_a_car(session, cast)
    phone.say(JOHN, "3", NOW)
    phone.say(JOHN, "The seat was torn and nobody called back", "2026-03-02 16:10")
    assert '"The seat was torn and nobody called back"' in phone.received(ANNA)[-1]


def test_a_rep_reached_only_by_email_gets_the_admin_link_not_sms_commands(
    session, cast, phone
) -> None:
    cast["rep"].phone = None
    cast["rep"].email = "anna@kowalski.example"
    session.commit()
    survey_about_a_car(session, cast)
    phone.say(JOHN, "3 - the car was dirty inside", NOW)
    session.expire_all()
    [alert] = session.scalars(select(Message).where(Message.purpose == "rep_alert")).all()
    assert (alert.channel, alert.address) == ("email", "anna@kowalski.example")
    assert "ACK" not in alert.body and "DONE" not in alert.body and "buttons" not in alert.body
    escalation = only_escalation(session)
    link = f"http://127.0.0.1:8000/admin/escalations/{escalation.id}"
    assert f"resolve it in Aftercare: {link}" in alert.body
    assert phone.received(MAREK) == []
    # What John writes next reaches her the same way: no commands she cannot send back.
    phone.say(JOHN, "Please call me after 5", "2026-03-02 16:10")
    session.expire_all()
    [relayed] = session.scalars(select(Message).where(Message.purpose == "rep_needs_answer"))
    assert relayed.channel == "email" and "ACK" not in relayed.body and link in relayed.body
