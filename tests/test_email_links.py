"""Following a survey email's links through the app: scores, comments, refusals, unsubscribing.

The emails are real (sent by the real client to the local SMTP server); their links
are followed with the app's TestClient, as a customer's browser would.
"""

from __future__ import annotations

import html

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from messaging.channels import ConsoleChannel, Transports
from messaging.channels.email import EmailChannel
from models import CheckIn, ConsentEvent, Customer, Escalation, Response
from scheduler.tick import tick
from tests.conftest import at
from tests.email_support import PUBLIC, links_of, send_surveys, survey_settings
from tests.test_tick import deliver
from web.app import create_app

pytest_plugins = ["tests.conftest_email"]


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_detractor_click_scores_opens_the_escalation_and_asks_in_their_language(
    db, session, cast, fake_smtp, browser
) -> None:
    anna = cast["pl"]
    [mail] = send_surveys(db, session, [anna], fake_smtp).values()
    page = browser.get(links_of(mail)[3])
    assert page.status_code == 200
    assert "Dziękujemy, Agnieszka!" in page.text and "Co poszło nie tak?" in page.text
    assert '<textarea name="comment"' in page.text and "<script" not in page.text
    [response] = session.scalars(select(Response)).all()
    assert (response.score, response.category, response.channel) == (3, "detractor", "email")
    [escalation] = session.scalars(select(Escalation)).all()
    assert escalation.response_id == response.id and escalation.status == "open"
    # A mail scanner opened it first, or the customer clicked twice: one press.
    assert browser.get(links_of(mail)[3]).status_code == 200
    assert (count(session, Response), count(session, Escalation)) == (1, 1)


def test_the_comment_box_stores_the_answer_to_the_follow_up(
    db, session, cast, fake_smtp, browser
) -> None:
    john = cast["en"]
    [mail] = send_surveys(db, session, [john], fake_smtp).values()
    token = links_of(mail)[7].split("/")[2]
    assert "What would make it a 10?" in browser.get(links_of(mail)[7]).text
    page = browser.post(f"/r/{token}/comment", data={"comment": "Faster delivery, please"})
    assert page.status_code == 200 and "Thank you, John!" in page.text
    session.expire_all()
    [response] = session.scalars(select(Response)).all()
    assert (response.score, response.comment, response.awaiting_comment) == (
        7,
        "Faster delivery, please",
        False,
    )


def test_a_forged_token_is_refused_politely_and_changes_nothing(
    db, session, cast, fake_smtp, browser
) -> None:
    [mail] = send_surveys(db, session, [cast["en"]], fake_smtp).values()
    real = links_of(mail)[9].split("/")[2]
    checkin_part, tag = real.split(".")
    for forged in (f"{checkin_part}.{tag[:-2]}AA", f"{checkin_part}x.{tag}", "garbage", "x."):
        page = browser.get(f"/r/{forged}/9")
        assert page.status_code == 404 and "This link doesn't work" in html.unescape(page.text)
    assert browser.get(links_of(mail)[9].replace("/9", "/11")).status_code == 404
    assert (
        browser.post(f"/r/{checkin_part}.{tag[:-2]}AA/comment", data={"comment": "hi"}).status_code
        == 404
    )
    assert count(session, Response) == 0


def test_an_expired_survey_changes_nothing(db, session, cast, fake_smtp, browser) -> None:
    [mail] = send_surveys(db, session, [cast["uk"]], fake_smtp).values()
    session.execute(CheckIn.__table__.update().values(status="expired"))
    session.commit()
    page = browser.get(links_of(mail)[2])
    assert page.status_code == 410 and "Опитування вже завершено" in page.text
    assert (count(session, Response), count(session, Escalation)) == (0, 0)


def test_one_click_unsubscribe_opts_out_and_nothing_more_is_sent(
    db, session, cast, fake_smtp, browser
) -> None:
    ru = cast["ru"]
    [mail] = send_surveys(db, session, [ru], fake_smtp).values()
    https = mail["List-Unsubscribe"].split(",")[0].strip(" <>")
    path = https.removeprefix(PUBLIC)
    # Opening the link (a scanner, or a person) only asks.
    page = browser.get(path)
    assert page.status_code == 200 and "Отписать" in page.text
    assert session.get_one(Customer, ru.id).opted_out_at is None
    # RFC 8058: the mail provider POSTs this body to the header's URL.
    page = browser.post(
        path,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert page.status_code == 200 and "Вы отписались" in page.text
    session.expire_all()
    assert session.get_one(Customer, ru.id).opted_out_at is not None
    [event] = session.scalars(select(ConsentEvent)).all()
    assert (event.action, event.source, event.channel) == ("opt_out", "email", "email")
    # A later delivery plans a survey; nothing goes out.
    deliver(session, ru, product="Roof box", category="garage", delivered="2026-03-20 10:00")
    settings = survey_settings(fake_smtp)
    transports = Transports(
        by_channel={"email": EmailChannel(settings)}, fallback=ConsoleChannel(stream=None)
    )
    tick(db, at("2026-03-27 12:00"), transports, settings)
    assert len(fake_smtp.received) == 1
    assert browser.post(path.replace("/u/", "/u/x")).status_code == 404


def test_a_second_click_changes_the_score_and_the_escalation_follows_once(
    db, session, cast, fake_smtp, browser
) -> None:
    [mail] = send_surveys(db, session, [cast["en"]], fake_smtp).values()
    links = links_of(mail)
    assert "What would make it a 10?" in browser.get(links[8]).text
    assert count(session, Escalation) == 0
    # A slip of the finger, corrected: now a detractor, escalated.
    page = browser.get(links[2])
    assert "What went wrong?" in page.text and 'aria-current="true">2<' in page.text
    [response] = session.scalars(select(Response)).all()
    assert (response.score, response.category) == (2, "detractor")
    assert count(session, Escalation) == 1
    # Clicking between low numbers, and back to 2: still one response, one escalation.
    browser.get(links[4])
    browser.get(links[2])
    session.expire_all()
    [response] = session.scalars(select(Response)).all()
    assert (response.score, count(session, Response), count(session, Escalation)) == (2, 1, 1)


def test_without_the_session_secret_links_are_signed_with_the_stored_key_every_process_shares(
    db, session, cast, fake_smtp, database_url
) -> None:
    """The sending process and a second web process agree on a key generated once in the DB."""
    settings = survey_settings(fake_smtp, session_secret="", database_url=database_url)
    [mail] = send_surveys(db, session, [cast["en"]], fake_smtp, settings).values()
    assert EmailChannel(settings)._key == EmailChannel(settings)._key  # another process
    with TestClient(create_app(db, settings), base_url=PUBLIC) as other_process:
        page = other_process.get(links_of(mail)[9])
        assert page.status_code == 200 and "John" in page.text
        assert other_process.get(links_of(mail)[9].replace(".", ".x", 1)).status_code == 404
    [response] = session.scalars(select(Response)).all()
    assert response.score == 9


def test_a_second_click_out_of_detractors_resolves_the_escalation_once_with_a_trail(
    db, session, cast, fake_smtp, browser
) -> None:
    from models import EscalationEvent, Message

    def rep_messages() -> list[str]:
        session.expire_all()
        rows = session.scalars(select(Message).where(Message.rep_id.is_not(None))).all()
        return [row.purpose for row in rows]

    [mail] = send_surveys(db, session, [cast["en"]], fake_smtp).values()
    links = links_of(mail)
    browser.get(links[2])
    [escalation] = session.scalars(select(Escalation)).all()
    assert escalation.status == "open" and rep_messages() == ["rep_alert"]
    # The customer meant 9: the escalation is closed as their doing, the rep told once.
    assert "Thank you" in browser.get(links[9]).text
    browser.get(links[9])  # the same number again (or a scanner): nothing more
    session.expire_all()
    escalation = session.get_one(Escalation, escalation.id)
    assert escalation.status == "resolved"
    assert escalation.resolution_note == "the customer changed the score from 2 to 9"
    trail = session.scalars(
        select(EscalationEvent.action)
        .where(EscalationEvent.escalation_id == escalation.id)
        .order_by(EscalationEvent.id)
    ).all()
    assert "resolved" in trail
    details = [
        detail
        for (detail,) in session.execute(
            select(EscalationEvent.detail).where(EscalationEvent.action == "resolved")
        )
    ]
    assert details == ["via score change: the customer changed the score from 2 to 9"]
    assert rep_messages() == ["rep_alert", "rep_score_changed"]
    # No "is everything sorted now?" days later: nothing went wrong.
    settings = survey_settings(fake_smtp)
    transports = Transports(
        by_channel={"email": EmailChannel(settings)}, fallback=ConsoleChannel(stream=None)
    )
    from datetime import timedelta

    from clock import utcnow

    tick(db, utcnow() + timedelta(days=4), transports, settings)  # the clicks took real time
    subjects = [str(got.message["Subject"]) for got in fake_smtp.received]
    # The survey and the "what went wrong?" queued by the first click (and, when the real
    # clock is inside the customer's day, the periodic survey due months after March).
    assert len(subjects) in (2, 3) and subjects[0].startswith("John, how are you getting on")
    assert not any("sorted" in subject for subject in subjects)
    assert rep_messages() == ["rep_alert", "rep_score_changed"]
    [recovery] = session.scalars(select(CheckIn).where(CheckIn.kind == "recovery")).all()
    assert recovery.status == "suppressed" and "changed the score" in (recovery.reason or "")


def test_a_click_back_into_detractors_reopens_the_withdrawn_escalation(
    db, session, cast, fake_smtp, browser
) -> None:
    [mail] = send_surveys(db, session, [cast["en"]], fake_smtp).values()
    links = links_of(mail)
    browser.get(links[2])
    browser.get(links[9])
    browser.get(links[3])
    session.expire_all()
    [escalation] = session.scalars(select(Escalation)).all()
    assert (escalation.status, escalation.resolved_at, escalation.recovery_checkin_id) == (
        "open",
        None,
        None,
    )
    assert session.scalars(select(CheckIn).where(CheckIn.kind == "recovery")).all() == []
