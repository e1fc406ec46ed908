"""Hero recovery, end to end: resolve, ask again three days later, count who came back."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from messaging.channels import console_only
from models import CheckIn, Escalation, Response
from reports.escalations import escalation_metrics
from scheduler.tick import tick
from settings import Settings
from tests.conftest import at
from tests.conversation_support import sent_survey

JOHN = "+14155550101"  # America/New_York
ANNA = "+48600000002"
SETTINGS = Settings(business_name="Kowalski Motors", default_tz="UTC")


def resolved_by_anna(session, cast, phone) -> Escalation:
    """John scores 3 at 16:00; Anna acknowledges, calls him and resolves at 17:00 on 2 March."""
    sent_survey(session, cast["en"])
    phone.say(JOHN, "3", "2026-03-02 16:00")
    phone.say(JOHN, "The delivery was two hours late", "2026-03-02 16:02")
    phone.say(ANNA, "ACK 1", "2026-03-02 16:20")
    phone.say(ANNA, "DONE 1 Apologised, refunded the delivery fee", "2026-03-02 17:00")
    session.expire_all()
    [escalation] = session.scalars(select(Escalation)).all()
    assert escalation.status == "resolved"
    return escalation


def recovery_checkins(session: Session) -> list[CheckIn]:
    session.expire_all()
    return list(session.scalars(select(CheckIn).where(CheckIn.kind == "recovery")))


@pytest.mark.parametrize(("answer", "rate"), [("9", 100.0), ("10 - much better now", 100.0)])
def test_three_days_after_resolution_the_customer_is_asked_again_and_recovers(
    db, session, cast, phone, console, answer, rate
) -> None:
    escalation = resolved_by_anna(session, cast, phone)
    transports = console_only(console)
    before = len(phone.received(JOHN))

    tick(db, at("2026-03-05 16:59"), transports, SETTINGS)  # not yet three days
    assert recovery_checkins(session) == []

    tick(db, at("2026-03-05 17:00"), transports, SETTINGS)  # 12:00 in New York

    [checkin] = recovery_checkins(session)
    assert (checkin.status, checkin.due_at, checkin.sent_at) == (
        "sent",
        at("2026-03-05 17:00"),
        at("2026-03-05 17:00"),
    )
    session.refresh(escalation)
    assert escalation.recovery_checkin_id == checkin.id
    [question] = phone.received(JOHN)[before:]
    assert "John" in question

    phone.say(JOHN, answer, "2026-03-05 18:00")

    [response] = session.scalars(select(Response).where(Response.checkin_id == checkin.id)).all()
    assert response.score >= 9
    report = escalation_metrics(session, at("2026-03-06 00:00"))
    assert (
        report.overall.recovery_asked,
        report.overall.recovery_answered,
        report.overall.recovered,
        report.overall.recovery_rate,
    ) == (1, 1, 1, rate)


def test_a_customer_still_unhappy_is_not_recovered_and_is_escalated_again(
    db, session, cast, phone, console
) -> None:
    resolved_by_anna(session, cast, phone)
    tick(db, at("2026-03-05 17:00"), console_only(console), SETTINGS)
    phone.say(JOHN, "4", "2026-03-05 18:00")

    report = escalation_metrics(session, at("2026-03-06 00:00"))
    assert (report.overall.recovery_answered, report.overall.recovered) == (1, 0)
    assert report.overall.recovery_rate == 0.0
    session.expire_all()
    escalations = session.scalars(select(Escalation).order_by(Escalation.id)).all()
    assert [(e.kind, e.status) for e in escalations] == [
        ("detractor", "resolved"),
        ("detractor", "open"),
    ]
    assert "score 4/10" in phone.received(ANNA)[-1]


def test_an_unanswered_recovery_check_is_asked_but_not_in_the_rate(
    db, session, cast, phone, console
) -> None:
    resolved_by_anna(session, cast, phone)
    tick(db, at("2026-03-05 17:00"), console_only(console), SETTINGS)
    report = escalation_metrics(session, at("2026-03-06 00:00"))
    assert (report.overall.recovery_asked, report.overall.recovery_answered) == (1, 0)
    assert report.overall.recovery_rate is None


def test_a_resolved_question_gets_no_recovery_check(db, session, cast, phone, console) -> None:
    phone.say(JOHN, "Do you sell winter tyres?", "2026-03-02 16:00")
    phone.say(ANNA, "DONE 1 Yes, told him the prices", "2026-03-02 16:30")
    tick(db, at("2026-03-06 17:00"), console_only(console), SETTINGS)
    assert recovery_checkins(session) == []
