"""The survey conversation, end to end: a customer writes, the console shows what they get back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cadence.rules import CadenceRules, load_rules, save_rules
from conversation.inbound import Inbound
from conversation.survey import carries_comment, record_score
from conversation.turn import Turn
from messaging.channels import console_only
from messaging.compose import TemplateBook
from messaging.outbox import drain, queue_message
from models import CheckIn, Customer, Escalation, EscalationEvent, Message, Purchase, Response
from models.states import NpsCategory
from scheduler.tick import tick
from settings import Settings
from tests.conftest import at
from tests.conversation_support import (
    AGNIESZKA,
    JOHN,
    REFERRAL_URL,
    REVIEW_URL,
    SETTINGS,
    sent_survey,
)


def responses(session: Session) -> list[Response]:
    session.expire_all()
    return list(session.scalars(select(Response).order_by(Response.id)))


def escalations(session: Session) -> list[Escalation]:
    session.expire_all()
    return list(session.scalars(select(Escalation).order_by(Escalation.id)))


def events(session: Session, escalation: Escalation) -> list[tuple[str, str]]:
    rows = session.scalars(
        select(EscalationEvent)
        .where(EscalationEvent.escalation_id == escalation.id)
        .order_by(EscalationEvent.id)
    )
    return [(event.action, event.detail) for event in rows]


# ---------------------------------------------------------------- scores


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (0, "detractor"),
        (6, "detractor"),
        (7, "passive"),
        (8, "passive"),
        (9, "promoter"),
        (10, "promoter"),
    ],
)
def test_scores_fall_into_nps_categories(score: int, category: str) -> None:
    assert NpsCategory.of(score) == category


def test_a_promoter_is_thanked_by_name_and_asked_for_a_review(session, cast, phone) -> None:
    checkin = sent_survey(session, cast["en"])
    receipt = phone.say(JOHN, "10/10 thanks!", "2026-03-02 16:00")

    assert receipt.action == "scored" and not receipt.duplicate
    [text] = phone.received(JOHN)
    assert "John" in text and REVIEW_URL in text and REFERRAL_URL in text
    [response] = responses(session)
    assert (response.checkin_id, response.score, response.category) == (checkin.id, 10, "promoter")
    assert response.awaiting_comment is False and response.followup_sent_at == at(
        "2026-03-02 16:00"
    )
    session.refresh(checkin)
    assert (checkin.status, checkin.closed_at) == ("answered", at("2026-03-02 16:00"))
    assert escalations(session) == []


def test_a_detractor_is_asked_what_went_wrong_and_escalated_to_their_rep(
    session, cast, phone
) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "3", "2026-03-02 16:00")

    [text] = phone.received(JOHN)
    assert "John" in text and "What went wrong?" in text
    [response] = responses(session)
    assert (response.score, response.category, response.awaiting_comment) == (3, "detractor", True)
    [escalation] = escalations(session)
    assert (escalation.kind, escalation.response_id, escalation.status) == (
        "detractor",
        response.id,
        "open",
    )
    assert escalation.rep_id == cast["rep"].id
    assert escalation.sla_due_at == at("2026-03-02 18:00")
    assert events(session, escalation) == [("opened", "detractor, score 3")]


def test_a_passive_is_asked_what_would_make_it_a_ten(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "I'd give you an eight", "2026-03-02 16:00")

    [text] = phone.received(JOHN)
    assert "What would make it a 10" in text
    [response] = responses(session)
    assert (response.score, response.category, response.awaiting_comment) == (8, "passive", True)
    assert escalations(session) == []


def test_the_answer_to_the_follow_up_question_becomes_the_comment(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "3", "2026-03-02 16:00")
    receipt = phone.say(JOHN, "The courier was rude and late", "2026-03-02 16:05")

    assert receipt.action == "comment"
    question, thanks = phone.received(JOHN)
    assert "Thank you for taking the time" in thanks and "John" in thanks
    [response] = responses(session)
    assert (response.comment, response.awaiting_comment) == ("The courier was rude and late", False)
    [escalation] = escalations(session)
    assert events(session, escalation)[-1] == ("comment", "The courier was rude and late")


def test_a_follow_up_answer_that_mentions_a_number_is_still_the_comment(
    session, cast, phone
) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "8", "2026-03-02 16:00")
    assert (
        phone.say(JOHN, "A 10 would need faster delivery", "2026-03-02 16:05").action == "comment"
    )
    [response] = responses(session)
    assert (response.score, response.comment) == (8, "A 10 would need faster delivery")


def test_a_comment_given_with_the_score_is_taken_and_not_asked_for_again(
    session, cast, phone
) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "3, the courier was rude", "2026-03-02 16:00")

    [text] = phone.received(JOHN)  # one message: thanks, no question
    assert "Thank you for taking the time" in text
    [response] = responses(session)
    assert response.score == 3 and "courier was rude" in response.comment
    assert response.awaiting_comment is False
    [escalation] = escalations(session)  # a detractor is escalated all the same
    assert escalation.kind == "detractor"


def test_a_promoter_with_a_comment_still_gets_the_review_ask(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "10, the staff were lovely", "2026-03-02 16:00")
    [text] = phone.received(JOHN)
    assert REVIEW_URL in text
    [response] = responses(session)
    assert "staff were lovely" in response.comment and response.awaiting_comment is False


def test_a_bare_thanks_beside_the_score_is_not_taken_for_an_answer() -> None:
    assert not carries_comment("!!")
    assert not carries_comment("ok 👍")
    assert carries_comment("the courier was rude")
    assert carries_comment("แย่มาก")


def test_a_comment_after_the_window_is_not_taken_for_the_answer(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "5", "2026-03-02 16:00")
    assert phone.say(JOHN, "Hello, is my invoice ready?", "2026-03-05 16:00").action == "forwarded"
    [response] = responses(session)
    assert response.comment == ""


def test_a_late_answer_goes_to_the_existing_escalation_not_a_new_one(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "2", "2026-03-02 16:00")
    phone.say(JOHN, "nobody called me back", "2026-03-05 10:00")

    [escalation] = escalations(session)
    assert events(session, escalation)[-1] == ("customer_message", "nobody called me back")
    assert "Anna Kowalska" in phone.received(JOHN)[-1]


def test_the_same_message_delivered_twice_is_stored_and_answered_once(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    first = phone.say(JOHN, "9", "2026-03-02 16:00", provider_id="SM123")
    second = phone.say(JOHN, "9", "2026-03-02 16:00", provider_id="SM123")

    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.action == "duplicate" and second.message_id == first.message_id
    assert len(responses(session)) == 1
    assert len(phone.received(JOHN)) == 1
    assert len(session.scalars(select(Message).where(Message.direction == "in")).all()) == 1


def test_two_deliveries_racing_for_one_survey_make_one_response(db, session, cast) -> None:
    checkin = sent_survey(session, cast["en"])
    now = at("2026-03-02 16:00")
    with db.begin() as work:
        customer = work.get_one(Customer, cast["en"].id)
        actions = []
        for n in (1, 2):
            message = Message(
                direction="in", channel="sms", body="9", status="received", provider_id=f"race-{n}"
            )
            work.add(message)
            inbound = Inbound("sms", JOHN, "9", f"race-{n}", now)
            turn = Turn(
                work, now, customer, inbound, message, SETTINGS, load_rules(work), TemplateBook()
            )
            actions.append(record_score(turn, work.get_one(CheckIn, checkin.id), 9, ""))
    assert actions == ["scored", "already_answered"]
    assert len(responses(session)) == 1
    followups = session.scalars(select(Message).where(Message.purpose == "followup")).all()
    assert len(followups) == 1


def test_another_score_after_answering_goes_to_the_rep(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "9", "2026-03-02 16:00")
    assert phone.say(JOHN, "10 actually", "2026-03-02 16:01").action == "forwarded"
    [response] = responses(session)
    assert response.score == 9
    [escalation] = escalations(session)
    assert escalation.kind == "needs_answer"


def test_a_reply_after_the_survey_expired_is_forwarded_to_the_rep(
    db, session, cast, phone, console
) -> None:
    john = cast["en"]
    session.add(
        Purchase(
            external_id="ord-1",
            customer=john,
            product="Skoda Octavia",
            category="car",
            delivered_at=at("2026-03-01 14:00"),
        )
    )
    john.periodic_anchor_at = at("2026-03-01 14:00")
    session.commit()
    transports = console_only(console)
    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)  # the survey goes out
    tick(db, at("2026-03-09 15:00"), transports, SETTINGS)  # seven days unanswered: expired
    [checkin] = session.scalars(select(CheckIn)).all()
    session.refresh(checkin)
    assert checkin.status == "expired"

    receipt = phone.say(JOHN, "9", "2026-03-09 16:00")

    assert receipt.action == "forwarded"
    assert responses(session) == []
    [escalation] = escalations(session)
    assert (escalation.kind, escalation.message_id, escalation.rep_id) == (
        "needs_answer",
        receipt.message_id,
        cast["rep"].id,
    )
    note = phone.received(JOHN)[-1]
    assert "John" in note and "Anna Kowalska" in note


def test_direct_answers_ignore_quiet_hours(session, cast, phone) -> None:
    somchai = cast["th"]  # Asia/Bangkok: 23:30 there
    sent_survey(session, somchai, sent="2026-03-02 09:00")
    phone.say("+66812345678", "๙", "2026-03-02 16:30")
    [text] = phone.received("+66812345678")
    assert "สมชาย" in text


def test_each_customer_is_answered_in_their_own_language(session, cast, phone) -> None:
    for language in ("en", "pl", "uk", "ru", "th"):
        sent_survey(session, cast[language])
    replies = {}
    for language, text in [
        ("en", "8"),
        ("pl", "osiem"),
        ("uk", "вісім"),
        ("ru", "восемь"),
        ("th", "แปด"),
    ]:
        customer = cast[language]
        phone.say(customer.phone, text, "2026-03-02 16:00")
        [replies[language]] = phone.received(customer.phone)
        assert customer.first_name in replies[language]
    assert len(set(replies.values())) == 5
    assert all(r.category == "passive" for r in responses(session))


# ---------------------------------------------------------------- clarifying and forwarding


def test_an_unreadable_reply_gets_one_clarification_then_goes_to_the_rep(
    session, cast, phone
) -> None:
    checkin = sent_survey(session, cast["en"])
    assert phone.say(JOHN, "hmm, 7 or 8?", "2026-03-02 16:00").action == "clarify"
    assert phone.say(JOHN, "I don't know", "2026-03-02 16:02").action == "forwarded"
    assert phone.say(JOHN, "call me", "2026-03-02 16:03").action == "forwarded"

    clarify, forwarded = phone.received(JOHN)  # the "passed on" note only once
    assert "number from 0 to 10" in clarify
    assert "Anna Kowalska" in forwarded
    [escalation] = escalations(session)
    assert escalation.kind == "needs_answer"
    assert events(session, escalation)[-1] == ("customer_message", "call me")
    session.refresh(checkin)
    assert checkin.status == "sent"  # still open for a score
    clarifications = session.scalars(select(Message).where(Message.purpose == "clarify")).all()
    assert [m.checkin_id for m in clarifications] == [checkin.id]


def test_a_score_after_the_clarification_is_recorded(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "not sure", "2026-03-02 16:00")
    assert phone.say(JOHN, "ok, 9", "2026-03-02 16:01").action == "scored"
    [response] = responses(session)
    assert response.score == 9


def test_a_message_without_a_survey_reaches_the_rep_and_the_note_goes_once_a_day(
    session, cast, phone
) -> None:
    first = phone.say(JOHN, "When is my next service due?", "2026-03-02 16:00")
    phone.say(JOHN, "And do you sell winter tyres?", "2026-03-02 17:00")
    phone.say(JOHN, "Hello?", "2026-03-03 17:00")

    assert first.action == "forwarded"
    assert len(phone.received(JOHN)) == 2
    [escalation] = escalations(session)
    assert (escalation.kind, escalation.message_id) == ("needs_answer", first.message_id)
    assert [action for action, _ in events(session, escalation)] == [
        "opened",
        "customer_message",
        "customer_message",
    ]


def test_a_new_escalation_is_opened_once_the_last_one_is_resolved(session, cast, phone) -> None:
    phone.say(JOHN, "Question about my car", "2026-03-02 16:00")
    [first] = escalations(session)
    first.status, first.resolved_at = "resolved", at("2026-03-02 17:00")
    session.commit()
    phone.say(JOHN, "Another question", "2026-03-04 16:00")
    assert [e.status for e in escalations(session)] == ["resolved", "open"]


# ---------------------------------------------------------------- buttons


def test_a_button_press_scores_the_survey_it_belongs_to(session, cast, phone) -> None:
    olena = cast["uk"]
    olena.telegram_chat_id, olena.channel = 5551234, "telegram"
    session.commit()
    checkin = sent_survey(session, olena, channel="telegram")

    receipt = phone.say(
        "5551234", "", "2026-03-02 16:00", channel="telegram", button=(checkin.id, 9)
    )

    assert receipt.action == "scored"
    [response] = responses(session)
    assert (response.checkin_id, response.score, response.channel) == (checkin.id, 9, "telegram")
    [text] = phone.received("5551234")
    assert "Олена" in text
    inbound = session.get_one(Message, receipt.message_id)
    assert (inbound.body, inbound.checkin_id) == ("9", checkin.id)


def test_a_second_tap_on_the_keyboard_changes_nothing(session, cast, phone) -> None:
    olena = cast["uk"]
    olena.telegram_chat_id = 5551234
    session.commit()
    checkin = sent_survey(session, olena, channel="telegram")
    phone.say("5551234", "", "2026-03-02 16:00", channel="telegram", button=(checkin.id, 9))
    receipt = phone.say(
        "5551234", "", "2026-03-02 16:00", channel="telegram", button=(checkin.id, 10)
    )
    assert receipt.action == "already_answered"
    assert [r.score for r in responses(session)] == [9]
    assert len(phone.received("5551234")) == 1


def test_a_button_naming_someone_elses_survey_scores_nothing(session, cast, phone) -> None:
    johns = sent_survey(session, cast["en"])
    olena = cast["uk"]
    olena.telegram_chat_id = 5551234
    session.commit()
    receipt = phone.say("5551234", "", "2026-03-02 16:00", channel="telegram", button=(johns.id, 0))
    assert receipt.action == "forwarded"
    assert responses(session) == []


# ---------------------------------------------------------------- stop, start, help


def test_stop_opts_out_at_once_cancelling_queued_messages_and_planned_check_ins(
    db, session, cast, phone
) -> None:
    john = cast["en"]
    survey = sent_survey(session, john)
    planned = CheckIn(
        customer_id=john.id,
        kind="periodic",
        dedupe_key="p1",
        due_at=at("2026-06-01 15:00"),
        status="scheduled",
    )
    claimed = CheckIn(
        customer_id=john.id,
        kind="service",
        dedupe_key="s1",
        due_at=at("2026-03-02 15:00"),
        status="queued",
    )
    session.add_all([planned, claimed])
    session.flush()
    queued = queue_message(
        session,
        now=at("2026-03-02 15:30"),
        channel="sms",
        address=JOHN,
        body="Reminder",
        purpose="reminder",
        customer_id=john.id,
        checkin_id=survey.id,
    )
    later = queue_message(
        session,
        now=at("2026-03-02 20:00"),
        channel="telegram",
        address="1",
        body="Later",
        purpose="survey",
        customer_id=john.id,
        checkin_id=claimed.id,
    )
    session.commit()

    assert phone.say(JOHN, "STOP", "2026-03-02 15:31").action == "stop"

    [confirmation] = phone.received(JOHN)
    assert "John" in confirmation and "START" in confirmation
    session.expire_all()
    assert john.opted_out_at == at("2026-03-02 15:31")
    assert (queued.status, queued.error) == ("cancelled", "customer opted out")
    assert later.status == "cancelled"
    for checkin in (planned, claimed):
        assert (checkin.status, checkin.reason) == ("suppressed", "customer opted out")
    assert john.periodic_anchor_at == at("2026-03-02 15:31")
    drain(db, at("2026-03-03 12:00"), console_only(phone.console), settings=Settings())
    assert len(phone.console.sent) == 1


def test_a_second_stop_gets_no_second_confirmation(session, cast, phone) -> None:
    phone.say(JOHN, "STOP", "2026-03-02 15:00")
    assert phone.say(JOHN, "Stop.", "2026-03-02 15:05").action == "stop"
    assert len(phone.received(JOHN)) == 1
    session.refresh(cast["en"])
    assert cast["en"].opted_out_at == at("2026-03-02 15:00")
    assert escalations(session) == []


def test_stop_wins_over_a_score_and_the_survey_is_not_scored(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    assert phone.say(JOHN, "10 but please stop texting me", "2026-03-02 16:00").action == "stop"
    assert responses(session) == []


def test_an_opted_out_customer_is_read_by_a_human_but_gets_no_automatic_reply(
    session, cast, phone
) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "STOP", "2026-03-02 15:30")
    assert phone.say(JOHN, "9", "2026-03-02 16:00").action == "forwarded"
    assert phone.say(JOHN, "why did you text me?", "2026-03-02 16:01").action == "forwarded"
    assert len(phone.received(JOHN)) == 1  # the opt-out confirmation only
    assert responses(session) == []
    [escalation] = escalations(session)
    assert escalation.kind == "needs_answer"


def test_stop_ends_the_wait_for_a_follow_up_answer(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "4", "2026-03-02 16:00")
    phone.say(JOHN, "STOP", "2026-03-02 16:01")
    [response] = responses(session)
    assert response.awaiting_comment is False


def test_start_opts_back_in_with_one_confirmation(session, cast, phone) -> None:
    phone.say(JOHN, "STOP", "2026-03-02 15:00")
    assert phone.say(JOHN, "START", "2026-03-02 15:10").action == "start"
    _, welcome = phone.received(JOHN)
    assert "Welcome back, John" in welcome
    session.refresh(cast["en"])
    assert cast["en"].opted_out_at is None


def test_start_from_someone_who_never_left_gets_a_help_note_once_a_day(
    session, cast, phone
) -> None:
    assert phone.say(JOHN, "/start", "2026-03-02 15:00").action == "start"
    phone.say(JOHN, "START", "2026-03-02 16:00")
    [note] = phone.received(JOHN)
    assert "Kowalski Motors" in note and "STOP" in note
    assert escalations(session) == []


def test_yes_while_a_survey_is_open_is_not_mistaken_for_an_opt_in(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    assert phone.say(JOHN, "yes", "2026-03-02 16:00").action == "clarify"


def test_help_names_the_business_and_how_to_opt_out_even_after_opting_out(
    session, cast, phone
) -> None:
    assert phone.say(AGNIESZKA, "pomoc", "2026-03-02 15:00").action == "help"
    phone.say(AGNIESZKA, "STOP", "2026-03-02 15:01")
    phone.say(AGNIESZKA, "HELP", "2026-03-02 15:02")
    first, _, second = phone.received(AGNIESZKA)
    assert first == second
    assert "Kowalski Motors" in first and "Agnieszka" in first and "STOP" in first


# ---------------------------------------------------------------- review invitations


def test_with_review_invite_all_a_passive_is_invited_after_their_comment(
    session, cast, phone
) -> None:
    save_rules(session, CadenceRules(review_invite_all=True))
    session.commit()
    sent_survey(session, cast["en"])
    phone.say(JOHN, "7", "2026-03-02 16:00")
    assert phone.say(JOHN, "Faster paperwork", "2026-03-02 16:05").action == "comment"
    question, invite = phone.received(JOHN)
    assert "What would make it a 10" in question
    assert REVIEW_URL in invite and "John" in invite


def test_with_review_invite_all_an_inline_comment_gets_the_invitation_at_once(
    session, cast, phone
) -> None:
    save_rules(session, CadenceRules(review_invite_all=True))
    session.commit()
    sent_survey(session, cast["en"])
    phone.say(JOHN, "8 - the paperwork took long", "2026-03-02 16:00")
    [invite] = phone.received(JOHN)
    assert REVIEW_URL in invite


def test_with_review_invite_all_a_detractor_is_not_invited_while_escalated(
    session, cast, phone
) -> None:
    save_rules(session, CadenceRules(review_invite_all=True))
    session.commit()
    sent_survey(session, cast["en"])
    phone.say(JOHN, "2", "2026-03-02 16:00")
    phone.say(JOHN, "The car broke down", "2026-03-02 16:05")
    assert all(REVIEW_URL not in text for text in phone.received(JOHN))


def test_without_review_invite_all_only_promoters_hear_about_reviews(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "7", "2026-03-02 16:00")
    phone.say(JOHN, "Faster paperwork", "2026-03-02 16:05")
    assert all(REVIEW_URL not in text for text in phone.received(JOHN))


# ---------------------------------------------------------------- robustness


def test_a_broken_template_is_logged_and_the_message_still_counts(
    session, cast, phone, caplog
) -> None:
    from models import TemplateVersion

    session.add(
        TemplateVersion(
            key="followup_detractor", language="en", version=1, body="{{ no_such_thing }}"
        )
    )
    session.commit()
    sent_survey(session, cast["en"])
    assert phone.say(JOHN, "3", "2026-03-02 16:00").action == "scored"
    assert phone.received(JOHN) == []
    [response] = responses(session)
    assert response.awaiting_comment is False  # nothing was asked
    assert len(escalations(session)) == 1
    assert "followup_detractor" in caplog.text


def test_a_survey_older_than_the_expiry_is_not_open_even_before_the_tick_expires_it(
    session, cast, phone
) -> None:
    sent_survey(session, cast["en"], sent="2026-03-01 10:00")
    later = at("2026-03-01 10:00") + timedelta(days=7, minutes=1)
    assert phone.say(JOHN, "9", later.strftime("%Y-%m-%d %H:%M")).action == "forwarded"


def test_praise_after_the_review_invite_is_the_comment_not_an_escalation(
    session, cast, phone
) -> None:
    sent_survey(session, cast["th"])
    phone.say("+66812345678", "10", "2026-03-02 16:00")
    receipt = phone.say("+66812345678", "บริการดีมากค่ะ", "2026-03-02 16:05")
    assert receipt.action == "comment"
    [response] = responses(session)
    assert response.comment == "บริการดีมากค่ะ"
    assert escalations(session) == []


def test_a_question_after_the_review_invite_still_goes_to_the_rep(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    phone.say(JOHN, "10", "2026-03-02 16:00")
    receipt = phone.say(JOHN, "When is my first service due?", "2026-03-02 16:05")
    assert receipt.action == "forwarded"
    [escalation] = escalations(session)
    assert escalation.kind == "needs_answer"


AFTER_INVITE = {  # language: (praise, a complaint without "?", a question without "?")
    "en": ("Anna was brilliant, thank you", "The air con is not working again",
           "When is my first service due"),
    "pl": ("Wszystko super, dziękuję!", "Klimatyzacja znowu nie działa",
           "Kiedy mam przyjechać na przegląd"),
    "uk": ("Дуже дякую, все чудово!", "Кондиціонер знову не працює", "Коли наступне ТО"),
    "ru": ("Спасибо, всё отлично!", "Кондиционер опять не работает", "Когда следующее ТО"),
    "th": ("บริการดีมากค่ะ", "แอร์เสียอีกแล้วค่ะ", "เข้าศูนย์ครั้งต่อไปเมื่อไหร่คะ"),
}  # fmt: skip


@pytest.mark.parametrize("language", ["en", "pl", "uk", "ru", "th"])
def test_after_the_review_invite_only_a_question_or_a_complaint_reaches_a_rep(
    session, cast, phone, language
) -> None:
    customer = cast[language]
    praise, complaint, question = AFTER_INVITE[language]
    sent_survey(session, customer)
    phone.say(customer.phone, "10", "2026-03-02 16:00")
    assert phone.say(customer.phone, praise, "2026-03-02 16:05").action == "comment"
    [response] = responses(session)
    assert response.comment == praise
    assert escalations(session) == []
    assert phone.say(customer.phone, complaint, "2026-03-02 16:10").action == "forwarded"
    [escalation] = escalations(session)
    assert escalation.kind == "needs_answer"
    session.expire_all()
    assert responses(session)[0].comment == praise  # the complaint is the rep's, not a comment
    assert phone.say(customer.phone, question, "2026-03-02 16:15").action == "forwarded"
    assert len(escalations(session)) == 1  # the open one gets it, not a second
