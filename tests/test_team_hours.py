"""Working hours for the team: a Friday-night complaint waits for Monday, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cadence.team import InvalidTeam, Team, load_team, save_team
from cadence.working_hours import parse_hours
from escalation.sla import sla_time_left
from messaging.channels import console_only
from messaging.outbox import drain
from models import Escalation, EscalationEvent, Message
from scheduler.tick import tick
from settings import Settings
from tests.conftest import at
from tests.conversation_support import sent_survey
from tests.test_users import empty_database  # noqa: F401  (a fixture)

JOHN = "+14155550101"
ANNA = "+48600000002"
MAREK = "+48600000001"
SETTINGS = Settings(business_name="Kowalski Motors", default_tz="UTC")
# Friday 6 March 2026, 23:00 in Warsaw (CET, UTC+1).
FRIDAY_NIGHT = "2026-03-06 22:00"


def office(session: Session, *, urgent: bool = False) -> None:
    save_team(
        session,
        Team("Europe/Warsaw", parse_hours("Mon-Fri 09:00-18:00"), urgent_detractor_alerts=urgent),
    )
    session.commit()


def complaint(session, cast, phone, when: str = FRIDAY_NIGHT) -> Escalation:
    sent_survey(session, cast["en"], sent="2026-03-06 15:00")
    phone.say(JOHN, "3 the paint is scratched", when)
    session.expire_all()
    [escalation] = session.scalars(select(Escalation)).all()
    return escalation


def rep_alert(session: Session) -> Message:
    session.expire_all()
    return session.scalars(select(Message).where(Message.purpose == "rep_alert")).one()


def test_by_default_the_team_works_around_the_clock_in_the_default_zone(session) -> None:
    team = load_team(session, "Europe/Warsaw")
    assert team.timezone == "Europe/Warsaw" and team.hours.around_the_clock
    assert not team.urgent_detractor_alerts


def test_a_friday_night_complaint_is_due_two_working_hours_after_monday_9(
    db, session, cast, phone, console
) -> None:
    office(session)
    escalation = complaint(session, cast, phone)

    assert escalation.sla_due_at == at("2026-03-09 10:00")  # 11:00 in Warsaw
    alert = rep_alert(session)
    assert alert.status == "queued" and alert.next_attempt_at == at("2026-03-09 08:00")
    assert console.to(ANNA) == []
    trail = session.scalars(
        select(EscalationEvent.detail).where(EscalationEvent.action == "alert_waits")
    ).all()
    assert trail == [
        "rep_alert to Anna Kowalska waits for their working hours, until 2026-03-09 09:00 CET"
    ]
    # The SLA counts working time: all of it is left over the weekend.
    team = load_team(session, "UTC")
    assert sla_time_left(escalation, at("2026-03-08 12:00"), team) == timedelta(hours=2)
    assert sla_time_left(escalation, at("2026-03-09 09:00"), team) == timedelta(hours=1)
    assert sla_time_left(escalation, at("2026-03-09 11:00"), team) == -timedelta(hours=1)

    # Nobody is texted at night or over the weekend.
    for when in ("2026-03-07 00:00", "2026-03-08 23:59"):
        assert tick(db, at(when), console_only(console), SETTINGS).escalated == 0
    assert console.to(ANNA) == [] and console.to(MAREK) == []

    drain(db, at("2026-03-09 08:00"), console_only(console), settings=SETTINGS)
    [to_anna] = console.to(ANNA)
    assert "John Smith" in to_anna and "120 min" in to_anna

    assert tick(db, at("2026-03-09 09:59"), console_only(console), SETTINGS).escalated == 0
    assert tick(db, at("2026-03-09 10:01"), console_only(console), SETTINGS).escalated == 1
    [to_marek] = console.to(MAREK)
    assert "within 120 minutes" in to_marek


def test_a_reminder_due_after_hours_waits_for_the_morning(
    db, session, cast, phone, console
) -> None:
    office(session)
    complaint(session, cast, phone, "2026-03-09 15:30")  # Monday 16:30 in Warsaw: due 09:30 Tue
    assert tick(db, at("2026-03-09 23:00"), console_only(console), SETTINGS).escalated == 0
    assert tick(db, at("2026-03-10 08:31"), console_only(console), SETTINGS).escalated == 1


def test_urgent_detractor_alerts_go_at_once(db, session, cast, phone, console) -> None:
    office(session, urgent=True)
    complaint(session, cast, phone)
    assert rep_alert(session).status == "sent"
    assert len(console.to(ANNA)) == 1


def test_a_rep_with_hours_of_their_own_hears_when_their_day_starts(
    db, session, cast, phone, console
) -> None:
    office(session)
    cast["rep"].working_hours = "Sat-Sun 10:00-14:00"
    session.commit()
    complaint(session, cast, phone)
    assert rep_alert(session).next_attempt_at == at("2026-03-07 09:00")  # Saturday 10:00 CET


def test_bad_stored_team_settings_name_the_field() -> None:
    with pytest.raises(InvalidTeam) as raised:
        Team.from_json(
            {"timezone": "Europe/Warszawa", "working_hours": "Mon-Fri 18:00-09:00"}, "UTC"
        )
    assert set(raised.value.problems) == {"timezone", "working_hours"}
    assert "'Europe/Warszawa' is not an IANA time zone" in str(raised.value)


def test_reps_csv_sets_checks_and_clears_a_reps_own_hours(session) -> None:
    from tests.test_importing import csv_text, errors_of, rep, run

    run(
        session,
        "reps",
        csv_text(
            "external_id,name,phone,working_hours", "rep-a,Anna,+48600000009,mon-fri 8:00-16:00"
        ),
    )
    session.commit()
    assert rep(session, "rep-a").working_hours == "Mon-Fri 08:00-16:00"
    assert errors_of(
        session,
        "reps",
        csv_text("external_id,name,working_hours", "rep-a,Anna,Mon-Fri 25:00-16:00"),
    ) == [(2, "working_hours", "'25:00' is not a time like 09:00")]
    run(session, "reps", csv_text("external_id,name,working_hours", "rep-a,Anna,default"))
    session.commit()
    session.expire_all()
    assert rep(session, "rep-a").working_hours is None


def test_the_api_sets_a_reps_own_hours(db) -> None:
    from tests.test_api_writes import make_client, post, problems

    with make_client(db) as client:
        body = {"external_id": "rep-a", "name": "Anna", "working_hours": "Mon-Fri 09:00-17:00"}
        answer = post(client, "/api/reps", body)
        assert answer.status_code == 201 and answer.json()["working_hours"] == body["working_hours"]
        bad = post(client, "/api/reps", {**body, "working_hours": "Mon-Fri 17:00-09:00"})
        assert problems(bad) == [
            (
                ("body", "working_hours"),
                "the end must be after the start, within one day (up to 24:00)",
            )
        ]


def test_migration_0014_adds_and_drops_the_column_keeping_the_reps(
    empty_database,  # noqa: F811
) -> None:
    from sqlalchemy import inspect, text

    from tests.test_users import _to

    engine = empty_database
    _to(engine, "0014")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO reps (external_id, name, role, working_hours, created_at, updated_at) "
                "VALUES ('rep-a', 'Anna', 'rep', 'Mon-Fri 09:00-18:00', :t, :t)"
            ),
            {"t": datetime(2026, 1, 1)},
        )
    _to(engine, "0013", down=True)
    assert "working_hours" not in {c["name"] for c in inspect(engine).get_columns("reps")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT external_id FROM reps")).scalars().all() == ["rep-a"]
