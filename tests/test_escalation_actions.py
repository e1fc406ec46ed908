"""acknowledge, resolve, reassign: one change each, on the record, however often they are called."""

from __future__ import annotations

import warnings

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from escalation import actions
from messaging.channels import ConsoleChannel, console_only
from messaging.outbox import drain
from models import CheckIn, Escalation, EscalationEvent, Rep, Response
from settings import Settings
from tests.conftest import at
from web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette prefers httpx2 for its test client
    from fastapi.testclient import TestClient

OPENED = at("2026-03-02 16:00")


@pytest.fixture
def escalation(session: Session, cast) -> Escalation:
    john = cast["en"]
    checkin = CheckIn(
        customer_id=john.id,
        kind="post_delivery",
        dedupe_key="k",
        due_at=OPENED,
        status="answered",
        sent_at=OPENED,
    )
    session.add(checkin)
    session.flush()
    response = Response(
        checkin_id=checkin.id,
        customer_id=john.id,
        score=2,
        category="detractor",
        received_at=OPENED,
    )
    session.add(response)
    session.flush()
    row = Escalation(
        kind="detractor",
        response_id=response.id,
        customer_id=john.id,
        rep_id=cast["rep"].id,
        status="open",
        sla_due_at=at("2026-03-02 18:00"),
        created_at=OPENED,
    )
    session.add(row)
    session.commit()
    return row


def trail(session: Session) -> list[tuple[str, str, str]]:
    session.expire_all()
    rows = session.scalars(select(EscalationEvent).order_by(EscalationEvent.id))
    return [(e.actor, e.action, e.detail) for e in rows]


def test_acknowledging_twice_changes_it_once(session, cast, escalation) -> None:
    anna = cast["rep"]
    first = actions.acknowledge(session, at("2026-03-02 16:05"), escalation, anna, "sms")
    second = actions.acknowledge(session, at("2026-03-02 16:09"), escalation, anna, "telegram")
    session.commit()

    assert (first.changed, second.changed) == (True, False)
    assert (escalation.status, escalation.acknowledged_at, escalation.acknowledged_by_id) == (
        "acknowledged",
        at("2026-03-02 16:05"),
        anna.id,
    )
    assert trail(session) == [("Anna Kowalska (rep-1)", "acknowledged", "via sms")]


def test_the_admin_page_acts_by_id_and_names_itself(session, cast, escalation) -> None:
    # The shape web/admin/escalations.py calls.
    actions.acknowledge(
        session, at("2026-03-02 16:05"), escalation_id=escalation.id, actor="admin admin"
    )
    actions.resolve(
        session,
        at("2026-03-02 16:30"),
        escalation_id=escalation.id,
        actor="admin admin",
        note="Refunded the delivery fee",
    )
    session.commit()
    session.refresh(escalation)
    assert (escalation.status, escalation.resolution_note, escalation.resolved_by_id) == (
        "resolved",
        "Refunded the delivery fee",
        None,
    )
    assert trail(session) == [
        ("admin admin", "acknowledged", "via admin"),
        ("admin admin", "resolved", "via admin: Refunded the delivery fee"),
    ]


def test_resolving_records_who_when_and_the_note_and_acknowledges_if_nobody_had(
    session, cast, escalation
) -> None:
    marek = cast["manager"]
    outcome = actions.resolve(
        session, at("2026-03-02 17:00"), escalation, marek, "  Called, replaced  ", "sms"
    )
    session.commit()
    assert outcome.changed
    assert (
        escalation.status,
        escalation.resolved_at,
        escalation.resolved_by_id,
        escalation.resolution_note,
        escalation.acknowledged_at,
        escalation.acknowledged_by_id,
    ) == (
        "resolved",
        at("2026-03-02 17:00"),
        marek.id,
        "Called, replaced",
        at("2026-03-02 17:00"),
        marek.id,
    )


def test_resolving_keeps_an_earlier_acknowledgement(session, cast, escalation) -> None:
    anna, marek = cast["rep"], cast["manager"]
    actions.acknowledge(session, at("2026-03-02 16:05"), escalation, anna, "sms")
    actions.resolve(session, at("2026-03-02 17:00"), escalation, marek, "done", "sms")
    assert (escalation.acknowledged_at, escalation.acknowledged_by_id) == (
        at("2026-03-02 16:05"),
        anna.id,
    )


def test_resolving_twice_keeps_the_first_note(session, cast, escalation) -> None:
    anna = cast["rep"]
    actions.resolve(session, at("2026-03-02 17:00"), escalation, anna, "first", "sms")
    again = actions.resolve(session, at("2026-03-02 17:05"), escalation, anna, "second", "sms")
    assert not again.changed
    assert (escalation.resolution_note, escalation.resolved_at) == ("first", at("2026-03-02 17:00"))
    assert [action for _, action, _ in trail(session)] == ["resolved"]


def test_nobody_owes_a_note_for_an_escalation_resolved_elsewhere(session, cast, escalation) -> None:
    anna = cast["rep"]
    anna.awaiting_note_escalation_id, anna.awaiting_note_since = escalation.id, OPENED
    session.commit()
    actions.resolve(
        session, at("2026-03-02 17:00"), escalation_id=escalation.id, actor="admin", note="x"
    )
    session.commit()
    session.refresh(anna)
    assert (anna.awaiting_note_escalation_id, anna.awaiting_note_since) == (None, None)


def test_a_stale_copy_cannot_acknowledge_what_another_process_already_did(
    db: sessionmaker[Session], cast, escalation
) -> None:
    with db() as one, db() as two:
        mine = one.get_one(Escalation, escalation.id)
        theirs = two.get_one(Escalation, escalation.id)  # loaded while still open
        assert actions.acknowledge(one, at("2026-03-02 16:05"), mine, None, "sms").changed
        one.commit()
        outcome = actions.acknowledge(two, at("2026-03-02 16:06"), theirs, None, "telegram")
        two.commit()
    assert not outcome.changed
    assert outcome.escalation.acknowledged_at == at("2026-03-02 16:05")


def test_reassigning_alerts_the_new_rep_and_keeps_the_sla(db, session, cast, escalation) -> None:
    piotr = Rep(external_id="rep-2", name="Piotr Zieliński", phone="+48600000003")
    session.add(piotr)
    session.commit()
    outcome = actions.reassign(
        session,
        at("2026-03-02 16:30"),
        escalation,
        piotr,
        cast["manager"],
        settings=Settings(),
    )
    session.commit()
    console = ConsoleChannel(stream=None)
    drain(db, at("2026-03-02 16:30"), console_only(console), settings=Settings())

    assert outcome.changed and escalation.rep_id == piotr.id
    assert escalation.sla_due_at == at("2026-03-02 18:00")
    [alert] = console.to("+48600000003")
    assert "Piotr, John Smith needs you: score 2/10" in alert and "90 minutes" in alert
    # Nothing changes when it is already theirs, or resolved.
    assert not actions.reassign(
        session, at("2026-03-02 16:31"), escalation, piotr, None, settings=Settings()
    ).changed
    actions.resolve(session, at("2026-03-02 17:00"), escalation, piotr, "ok", "sms")
    anna = cast["rep"]
    assert not actions.reassign(
        session, at("2026-03-02 17:01"), escalation, anna, None, settings=Settings()
    ).changed
    assert [action for _, action, _ in trail(session)] == ["reassigned", "resolved"]


def test_an_unknown_escalation_id_is_an_error_for_the_caller(session, cast) -> None:
    with pytest.raises(Exception, match="No row"):
        actions.acknowledge(session, OPENED, escalation_id=12345, actor="admin")


def test_the_audit_trail_is_visible_through_the_api(db, session, cast, escalation) -> None:
    anna = cast["rep"]
    actions.acknowledge(session, at("2026-03-02 16:05"), escalation, anna, "telegram")
    actions.resolve(session, at("2026-03-02 16:40"), escalation, anna, "Called him", "sms")
    session.commit()
    auth = {"Authorization": "Bearer secret"}
    with TestClient(create_app(db, Settings(api_token="secret"))) as client:
        trail_ = client.get(f"/api/escalations/{escalation.id}/events", headers=auth)
        missing = client.get("/api/escalations/999/events", headers=auth)
        anonymous = client.get(f"/api/escalations/{escalation.id}/events")
    assert trail_.json() == [
        {
            "at": "2026-03-02T16:05:00+00:00",
            "actor": "Anna Kowalska (rep-1)",
            "action": "acknowledged",
            "detail": "via telegram",
        },
        {
            "at": "2026-03-02T16:40:00+00:00",
            "actor": "Anna Kowalska (rep-1)",
            "action": "resolved",
            "detail": "via sms: Called him",
        },
    ]
    assert (missing.status_code, anonymous.status_code) == (404, 401)
