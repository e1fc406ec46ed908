"""A customer who changes their score (another number of the survey email) and the rep who was
alerted: told once that the escalation was closed and why, or alerted as usual when the new
score is a detractor's; never two escalations, never a command to answer about a closed one.

Driven through the same door as real customers: the emails are real (the real client to the
local SMTP server) and their score links are opened with the app's TestClient.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cadence.team import Team, save_team
from cadence.working_hours import parse_hours
from clock import utcnow
from messaging.channels import ConsoleChannel, Transports
from messaging.channels.email import EmailChannel
from messaging.outbox import drain
from messaging.rep_verbs import teach
from models import Escalation, EscalationEvent, Message, Rep
from models.states import Language
from scheduler.tick import tick
from tests.email_support import links_of, send_surveys, survey_settings

pytest_plugins = ["tests.conftest_email"]

CHAT = 5550002  # Anna's Telegram chat, when she uses Telegram


def to_reps(session) -> list[Message]:  # type: ignore[no-untyped-def]
    session.expire_all()
    query = select(Message).where(Message.rep_id.is_not(None)).order_by(Message.id)
    return list(session.scalars(query))


def john_scores(db, session, cast, fake_smtp, browser, *clicks: int) -> list[Message]:  # type: ignore[no-untyped-def]
    """John gets the survey email and clicks these numbers in turn: what his rep was sent."""
    [mail] = send_surveys(db, session, [cast["en"]], fake_smtp).values()
    links = links_of(mail)
    for score in clicks:
        assert browser.get(links[score]).status_code == 200
    return to_reps(session)


def escalations(session) -> list[Escalation]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.scalars(select(Escalation)))


def test_out_of_detractors_the_rep_learns_the_escalation_was_closed_and_why(
    db, session, cast, fake_smtp, browser
) -> None:
    alert, changed = john_scores(db, session, cast, fake_smtp, browser, 2, 9, 9)
    [escalation] = escalations(session)
    assert (alert.purpose, changed.purpose) == ("rep_alert", "rep_score_changed")
    assert (changed.rep_id, changed.channel, changed.address) == (
        cast["rep"].id,
        "sms",
        cast["rep"].phone,
    )
    assert changed.body == (
        "Anna, John Smith changed their score from 2 to 9 (Skoda Octavia), "
        f"so escalation #{escalation.id} has been closed. No action needed."
    )
    assert escalation.status == "resolved"
    assert escalation.resolution_note == "the customer changed the score from 2 to 9"


@pytest.mark.parametrize("language", [language.value for language in Language])
def test_a_closed_escalations_message_asks_for_no_command_in_the_reps_language(
    db, session, cast, fake_smtp, browser, language: str
) -> None:
    rep = session.get_one(Rep, cast["rep"].id)
    rep.language = language
    session.commit()
    alert, changed = john_scores(db, session, cast, fake_smtp, browser, 3, 10)
    [escalation] = escalations(session)
    assert changed.purpose == "rep_score_changed"
    body = changed.body
    assert "Anna" in body and "John Smith" in body and "Skoda Octavia" in body
    assert "3" in body and "10" in body and f"#{escalation.id}" in body
    # The first alert teaches the commands (ACK 1, DONE 1 on SMS); this one must not.
    assert f"{teach(language)['ack']} {escalation.id}" in alert.body
    for verb in [*teach(language).values(), *teach("en").values()]:
        assert f"{verb} {escalation.id}" not in body
    if language != "en":
        assert "changed their score" not in body  # written in the rep's language


def test_on_telegram_the_closed_escalation_comes_without_buttons(
    db, session, cast, fake_smtp, browser
) -> None:
    rep = session.get_one(Rep, cast["rep"].id)
    rep.telegram_chat_id = CHAT
    session.commit()
    alert, changed = john_scores(db, session, cast, fake_smtp, browser, 1, 8)
    assert (alert.channel, changed.channel) == ("telegram", "telegram")
    assert alert.buttons is not None and "ack:" in json.dumps(alert.buttons)
    assert changed.buttons is None
    assert "button" not in changed.body.lower()


def test_into_detractors_the_usual_alert_goes_out_once(
    db, session, cast, fake_smtp, browser
) -> None:
    sent = john_scores(db, session, cast, fake_smtp, browser, 8, 2, 2, 4)
    [escalation] = escalations(session)
    assert escalation.status == "open"
    alert, changed = sent
    assert alert.purpose == "rep_alert" and "John Smith needs you: score 2/10" in alert.body
    assert f"ACK {escalation.id}" in alert.body
    # Within 0-6 the rep hears the new score; the escalation stays theirs.
    assert changed.purpose == "rep_score_changed"
    assert "from 2 to 4" in changed.body and "stays open" in changed.body


def test_back_into_detractors_after_a_close_the_rep_is_alerted_again_with_fresh_time(
    db, session, cast, fake_smtp, browser
) -> None:
    sent = john_scores(db, session, cast, fake_smtp, browser, 2, 9, 3)
    assert [message.purpose for message in sent] == [
        "rep_alert",
        "rep_score_changed",
        "rep_alert",
    ]
    assert "score 3/10" in sent[2].body and "closed" in sent[1].body
    [escalation] = escalations(session)
    assert escalation.status == "open" and escalation.resolved_at is None
    assert escalation.sla_due_at >= sent[2].created_at + timedelta(hours=2) - timedelta(seconds=1)
    assert session.scalar(select(func.count()).select_from(Escalation)) == 1


def test_the_manager_it_went_up_to_hears_of_the_close_too(
    db, session, cast, fake_smtp, browser
) -> None:
    [mail] = send_surveys(db, session, [cast["en"]], fake_smtp).values()
    links = links_of(mail)
    browser.get(links[0])
    # Nobody acknowledged it within the SLA: it went up to Marek.
    settings = survey_settings(fake_smtp)
    transports = Transports(
        by_channel={"email": EmailChannel(settings)}, fallback=ConsoleChannel(stream=None)
    )
    tick(db, utcnow() + timedelta(hours=3), transports, settings)
    [escalation] = escalations(session)
    assert escalation.escalated_to_manager_at is not None
    before = len(to_reps(session))
    browser.get(links[9])
    told = [m for m in to_reps(session)[before:] if m.purpose == "rep_score_changed"]
    assert sorted(m.rep_id for m in told) == sorted([cast["rep"].id, cast["manager"].id])
    assert all("closed" in m.body and "ACK" not in m.body for m in told)


def test_the_trail_records_the_change_and_the_message(
    db, session, cast, fake_smtp, browser
) -> None:
    john_scores(db, session, cast, fake_smtp, browser, 2, 9)
    [escalation] = escalations(session)
    trail = session.execute(
        select(EscalationEvent.action, EscalationEvent.detail)
        .where(EscalationEvent.escalation_id == escalation.id)
        .order_by(EscalationEvent.id)
    ).all()
    assert ("comment", "score changed from 2 to 9") in trail
    assert ("resolved", "via score change: the customer changed the score from 2 to 9") in trail
    assert json.dumps([row.detail for row in trail])  # plain text all the way


def out_of_hours(session) -> None:  # type: ignore[no-untyped-def]
    """The team works one minute a week, on a day three days from now: it is off now."""
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[(utcnow().weekday() + 3) % 7]
    save_team(session, Team("UTC", parse_hours(f"{day} 09:00-09:01")))
    session.commit()


def test_an_alert_still_waiting_for_the_working_day_is_withdrawn_by_a_close(
    db, session, cast, fake_smtp, browser
) -> None:
    """John answers 2 at night and, a minute later, 9: Anna's morning would start with a
    complaint that no longer exists. The waiting alert is cancelled and she is told nothing."""
    out_of_hours(session)
    [alert] = john_scores(db, session, cast, fake_smtp, browser, 2, 9)
    [escalation] = escalations(session)
    assert escalation.status == "resolved"
    assert (alert.purpose, alert.status) == ("rep_alert", "cancelled")
    assert "changed their score to 9" in (alert.error or "")
    trail = session.scalars(
        select(EscalationEvent.detail).where(EscalationEvent.action == "alert_withdrawn")
    ).all()
    assert trail == ["to Anna Kowalska: the customer changed their score to 9 before it went"]


def test_a_rep_who_read_the_alert_hears_of_the_close_and_not_of_a_stale_change(
    db, session, cast, fake_smtp, browser
) -> None:
    """Anna read the 2 during the day; in the evening John makes it a 4 (that notice waits
    for her morning), then a 9: the 4 is withdrawn, the close waits for her morning."""
    [mail] = send_surveys(db, session, [cast["en"]], fake_smtp).values()
    links = links_of(mail)
    browser.get(links[2])
    settings = survey_settings(fake_smtp)
    drain(
        db,
        utcnow(),
        Transports(by_channel={}, fallback=ConsoleChannel(stream=None)),
        settings=settings,
    )
    out_of_hours(session)
    browser.get(links[4])
    browser.get(links[9])
    sent = to_reps(session)
    assert [(m.purpose, m.status) for m in sent] == [
        ("rep_alert", "sent"),
        ("rep_score_changed", "cancelled"),
        ("rep_score_changed", "queued"),
    ]
    assert "from 2 to 4" in sent[1].body and "from 4 to 9" in sent[2].body
    assert "closed" in sent[2].body
    assert sent[2].next_attempt_at is not None and sent[2].next_attempt_at > utcnow()


def test_the_customers_words_waiting_for_the_rep_are_withdrawn_with_the_alert(
    db, session, cast, fake_smtp, browser
) -> None:
    """At night John answers 2, says why in the comment box, then makes it a 9: neither the
    alert nor his relayed words reach Anna in the morning, and nor does a notice of a close."""
    out_of_hours(session)
    [mail] = send_surveys(db, session, [cast["en"]], fake_smtp).values()
    links = links_of(mail)
    assert browser.get(links[2]).status_code == 200
    token_path = links[2].rsplit("/", 1)[0]
    answer = browser.post(f"{token_path}/comment", data={"comment": "the paint is scratched"})
    assert answer.status_code == 200
    assert browser.get(links[9]).status_code == 200
    queued = [(m.purpose, m.status) for m in to_reps(session)]
    assert ("rep_needs_answer", "cancelled") in queued
    assert all(status == "cancelled" for _, status in queued)
    assert "rep_score_changed" not in {purpose for purpose, _ in queued}


def test_a_rep_who_read_nothing_yet_gets_one_fresh_alert_with_the_new_score(
    db, session, cast, fake_smtp, browser
) -> None:
    """At night John answers 2, then 4: Anna's morning starts with one alert that says 4,
    not an alert that says 2 and a notice of the change. A 9 after that withdraws it too."""
    out_of_hours(session)
    [mail] = send_surveys(db, session, [cast["en"]], fake_smtp).values()
    links = links_of(mail)
    browser.get(links[2])
    browser.get(links[4])
    sent = to_reps(session)
    assert [(m.purpose, m.status) for m in sent] == [
        ("rep_alert", "cancelled"),
        ("rep_alert", "queued"),
    ]
    assert "score 2/10" in sent[0].body and "score 4/10" in sent[1].body
    assert sent[1].next_attempt_at is not None and sent[1].next_attempt_at > utcnow()
    [escalation] = escalations(session)
    assert escalation.status == "open"
    browser.get(links[9])
    assert [(m.purpose, m.status) for m in to_reps(session)] == [
        ("rep_alert", "cancelled"),
        ("rep_alert", "cancelled"),
    ]
