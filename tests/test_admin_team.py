"""Settings: the business's time zone and working hours; every admin page on that clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cadence.rules import CadenceRules, load_rules
from cadence.team import Team, load_team, save_team
from cadence.working_hours import ALWAYS, parse_hours
from models import AuditEntry, Customer
from tests.conftest import at
from tests.test_admin import log_in, make_app, settings_form

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


@pytest.fixture
def client(db: sessionmaker[Session], cast: dict[str, object]) -> Iterator[TestClient]:
    from fastapi.testclient import TestClient

    app = make_app(db, default_tz="America/New_York")[0]
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client).status_code == 303
        yield client


def test_the_form_starts_around_the_clock_in_the_default_zone(client: TestClient) -> None:
    form = settings_form(client)
    assert (form["timezone"], form["work_days"], form["work_start"], form["work_end"]) == (
        "America/New_York",
        "Mon-Sun",
        "00:00",
        "24:00",
    )


def test_saving_hours_zone_and_urgency(client: TestClient, session: Session) -> None:
    form = settings_form(
        client,
        timezone="Europe/Warsaw",
        work_days="Mon-Fri",
        work_start="09:00",
        work_end="18:00",
        urgent_detractor_alerts="on",
    )
    answer = client.post("/admin/settings", data=form)
    assert answer.status_code == 303
    session.expire_all()
    assert load_team(session, "UTC") == Team(
        "Europe/Warsaw", parse_hours("Mon-Fri 09:00-18:00"), urgent_detractor_alerts=True
    )
    assert load_rules(session) == CadenceRules()  # the cadence rules are untouched
    audit = session.query(AuditEntry).filter(AuditEntry.target == "team hours").one()
    assert "'Mon-Sun 00:00-24:00' → 'Mon-Fri 09:00-18:00'" in audit.detail
    page = client.get("/admin/settings?saved=1").text
    assert 'value="Europe/Warsaw"' in page and 'value="Mon-Fri"' in page
    assert 'name="urgent_detractor_alerts" value="on" checked' in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Europe/Warszawa"}, "Business time zone: 'Europe/Warszawa' is not an IANA"),
        ({"work_start": "25:00"}, "Working hours from: '25:00' is not a time like 09:00"),
        ({"work_start": "18:00", "work_end": "09:00"}, "Working hours until: must be after 18:00"),
        ({"work_days": "Mon-Fry"}, "Working days: 'Fry' is not a day"),
        ({"work_days": ""}, "Working days: name at least one day"),
    ],
)
def test_bad_team_settings_name_the_field_and_save_nothing(
    client: TestClient, session: Session, changes: dict[str, str], message: str
) -> None:
    answer = client.post("/admin/settings", data=settings_form(client, **changes))
    assert answer.status_code == 422
    assert message.replace("'", "&#39;") in answer.text
    session.expire_all()
    assert load_team(session, "UTC").hours == ALWAYS
    assert load_team(session, "UTC").timezone == "UTC"  # nothing stored


def test_pages_show_times_on_the_business_clock(
    client: TestClient, session: Session, cast: dict[str, Customer]
) -> None:
    cast["en"].opted_out_at = at("2026-07-01 10:00")
    session.commit()
    page = client.get("/admin/customers/cust-en").text
    assert "since 2026-07-01 06:00 EDT" in page  # AFTERCARE_DEFAULT_TZ until one is set

    save_team(session, Team("Europe/Warsaw"))
    session.commit()
    page = client.get("/admin/customers/cust-en").text
    assert "since 2026-07-01 12:00 CEST" in page and "10:00 UTC" not in page


def test_an_admin_sets_a_reps_own_hours_on_the_users_page(
    client: TestClient, session: Session, cast: dict
) -> None:
    from sqlalchemy import select

    from models import Rep
    from tests.test_admin import csrf_of

    page = client.get("/admin/users").text
    assert "Reps' languages and hours" in page
    csrf = csrf_of(page)
    bad = client.post(
        "/admin/reps/rep-1/hours", data={"working_hours": "Mon-Fri 18:00-09:00", "csrf_token": csrf}
    )
    assert bad.status_code == 422 and "working hours of rep-1: the end must be after" in bad.text
    saved = client.post(
        "/admin/reps/rep-1/hours", data={"working_hours": "mon-fri 8:00-16:00", "csrf_token": csrf}
    )
    assert saved.status_code == 303
    anna = session.scalars(select(Rep).where(Rep.external_id == "rep-1")).one()
    session.refresh(anna)
    assert anna.working_hours == "Mon-Fri 08:00-16:00"
    assert 'value="Mon-Fri 08:00-16:00"' in client.get("/admin/users").text
    cleared = client.post("/admin/reps/rep-1/hours", data={"working_hours": "", "csrf_token": csrf})
    assert cleared.status_code == 303
    session.refresh(anna)
    assert anna.working_hours is None
    assert [
        e.detail
        for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "rep.hours"))
    ] == [
        "Mon-Fri 08:00-16:00",
        "the business's",
    ]
