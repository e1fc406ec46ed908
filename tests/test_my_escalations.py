"""A rep's home: their open escalations as cards, with notes and (for managers) reassigning.

The cast and the world are test_roles's: Marek manages Anna and Ben, Carl is in
another team, and each rep's customer has an open escalation.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clock import utcnow
from models import AuditEntry, Customer, Escalation, EscalationEvent, Message, Rep
from tests import test_roles
from tests.test_admin import csrf_of, log_in
from tests.test_roles import PASSWORDS, World

# The same fixtures as test_roles (the app, the world, a logged-in client per user).
app = test_roles.app
world = test_roles.world
as_user = test_roles.as_user


def test_a_rep_lands_on_their_open_escalations_and_an_admin_on_the_dashboard(
    app: Any, world: World
) -> None:
    from fastapi.testclient import TestClient

    for username, home in (("anna", "/admin/my"), ("marek", "/admin/"), ("boss", "/admin/")):
        with TestClient(app, follow_redirects=False) as client:
            answer = log_in(client, username, PASSWORDS[username])
            assert answer.status_code == 303 and answer.headers["location"] == home, username


def test_a_rep_sees_their_own_cards_with_the_way_to_reach_the_customer(
    as_user: Any, world: World
) -> None:
    mine = as_user("anna").get("/admin/my")
    assert mine.status_code == 200
    page = mine.text
    assert "My open escalations" in page
    assert "unhappy customer of rep-1" in page and "John Smith" in page
    assert "message from the customer of rep-1" in page  # the last messages
    assert "unhappy customer of rep-2" not in page and "unhappy customer of rep-3" not in page
    assert 'href="tel:+14155550101"' in page
    assert "tg://" not in page and "t.me" not in page  # no Telegram chat, no link
    assert "left</span>" in page and "sla-ok" in page
    assert ">Acknowledge<" in page and ">Resolve<" in page and ">Add note<" in page
    assert "/reassign" not in page  # a rep cannot hand work on


def test_a_telegram_customer_has_a_telegram_link_and_overdue_is_red(
    as_user: Any, world: World, session: Session
) -> None:
    customer = session.scalars(select(Customer).where(Customer.external_id == "cust-en")).one()
    customer.telegram_chat_id = 424242
    escalation = session.get_one(Escalation, world.escalations["rep-1"])
    escalation.sla_due_at = utcnow() - timedelta(minutes=20)
    session.commit()
    page = as_user("anna").get("/admin/my").text
    assert 'href="tg://user?id=424242"' in page
    assert 'class="badge sla-overdue">overdue by 20 min' in page


def test_a_manager_sees_the_team_and_reassigns_within_it(
    as_user: Any, world: World, session: Session
) -> None:
    marek = as_user("marek")
    page = marek.get("/admin/my").text
    assert "My team&#39;s open escalations" in page
    assert "unhappy customer of rep-1" in page and "unhappy customer of rep-2" in page
    assert "unhappy customer of rep-3" not in page
    assert 'value="rep-2"' in page and 'value="rep-3"' not in page  # Carl is not his to give to
    annas = world.escalations["rep-1"]
    csrf = csrf_of(page)
    refused = marek.post(
        f"/admin/escalations/{annas}/reassign", data={"rep": "rep-3", "csrf_token": csrf}
    )
    assert refused.status_code == 422 and "rep-3" in refused.text
    moved = marek.post(
        f"/admin/escalations/{annas}/reassign",
        data={"rep": "rep-2", "csrf_token": csrf, "back": "/admin/my"},
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/admin/my"
    session.expire_all()
    ben = session.scalars(select(Rep).where(Rep.external_id == "rep-2")).one()
    assert session.get_one(Escalation, annas).rep_id == ben.id
    trail = session.scalars(
        select(EscalationEvent).where(EscalationEvent.escalation_id == annas)
    ).all()
    assert [(e.action, e.actor) for e in trail] == [("reassigned", "marek (admin UI)")]
    assert session.scalar(select(Message.id).where(Message.rep_id == ben.id)) is not None  # alerted
    assert session.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "escalation.reassign")
    ) == ("to rep-2")
    # Anna no longer has it; a rep may not reassign at all.
    anna = as_user("anna")
    assert "unhappy customer of rep-1" not in anna.get("/admin/my").text
    csrf = csrf_of(anna.get("/admin/my").text)
    bens = world.escalations["rep-2"]
    answer = anna.post(
        f"/admin/escalations/{bens}/reassign", data={"rep": "rep-1", "csrf_token": csrf}
    )
    assert answer.status_code == 403


def test_a_note_goes_into_the_trail_and_the_status_stays(
    as_user: Any, world: World, session: Session
) -> None:
    anna = as_user("anna")
    own = world.escalations["rep-1"]
    csrf = csrf_of(anna.get("/admin/my").text)
    empty = anna.post(f"/admin/escalations/{own}/note", data={"note": "  ", "csrf_token": csrf})
    assert empty.status_code == 422
    answer = anna.post(
        f"/admin/escalations/{own}/note",
        data={"note": "Left a voicemail", "csrf_token": csrf, "back": f"/admin/escalations/{own}"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"/admin/escalations/{own}"
    session.expire_all()
    assert session.get_one(Escalation, own).status == "open"
    event = session.scalars(
        select(EscalationEvent).where(EscalationEvent.escalation_id == own)
    ).one()
    assert (event.action, event.actor) == ("note", "anna (admin UI)")
    assert "Left a voicemail" in event.detail
    detail = anna.get(f"/admin/escalations/{own}")
    assert detail.status_code == 200 and "Left a voicemail" in detail.text
    # Another rep's escalation is not there for her, to read or to write on.
    bens = world.escalations["rep-2"]
    assert anna.get(f"/admin/escalations/{bens}").status_code == 404
    other = anna.post(f"/admin/escalations/{bens}/note", data={"note": "x", "csrf_token": csrf})
    assert other.status_code == 404


def test_acknowledge_and_resolve_go_back_where_they_came_from_only_if_it_is_ours(
    as_user: Any, world: World, session: Session
) -> None:
    anna = as_user("anna")
    own = world.escalations["rep-1"]
    csrf = csrf_of(anna.get("/admin/my").text)
    answer = anna.post(
        f"/admin/escalations/{own}/acknowledge", data={"csrf_token": csrf, "back": "/admin/my"}
    )
    assert answer.headers["location"] == "/admin/my"
    answer = anna.post(
        f"/admin/escalations/{own}/resolve",
        data={"note": "Called, sent a voucher", "csrf_token": csrf, "back": "//evil.example"},
    )
    assert answer.headers["location"] == "/admin/escalations"
    session.expire_all()
    resolved = session.get_one(Escalation, own)
    assert resolved.status == "resolved" and resolved.resolution_note == "Called, sent a voucher"
    # The same state her SMS reply would leave: she, as a rep, acknowledged and resolved it.
    anna_rep = session.scalars(select(Rep).where(Rep.external_id == "rep-1")).one()
    assert resolved.acknowledged_by_id == anna_rep.id == resolved.resolved_by_id
    assert "unhappy customer of rep-1" not in anna.get("/admin/my").text


def test_time_left_on_a_card_counts_working_hours_once_the_team_has_them(
    as_user: Any, world: World, session: Session
) -> None:
    from cadence.team import Team, save_team
    from cadence.working_hours import parse_hours

    now = utcnow()
    start = (now.hour + 3) % 23  # a one-hour working day that has not begun yet today
    save_team(session, Team("UTC", parse_hours(f"Mon-Sun {start:02d}:00-{start + 1:02d}:00")))
    escalation = session.get_one(Escalation, world.escalations["rep-1"])
    escalation.sla_due_at = now + timedelta(hours=26)  # one working hour away, 26 on the clock
    session.commit()
    page = as_user("anna").get("/admin/my").text
    assert 'class="badge sla-ok">1 h 00 min left' in page or "59 min left" in page
    assert "1 d 2 h left" not in page
