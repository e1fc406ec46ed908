"""The Upcoming page and its holds: the next 24 h of passes, pause (the dispatcher honours it),
resume and cancel, audited and scoped by role."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from messaging.channels import ConsoleChannel, Transports, console_only
from models import AuditEntry, CheckIn, Customer
from scheduler import holds
from scheduler.tick import tick
from scheduler.upcoming import upcoming
from settings import Settings
from tests.conftest import at
from tests.test_admin import csrf_of
from tests.test_roles import World, app, as_user, world  # noqa: F401 - the fixtures

SETTINGS = Settings(business_name="Kowalski Motors", default_tz="UTC")
NOON = at("2026-03-02 17:00")  # 12:00 in New York, John's zone: no quiet hours


@pytest.fixture
def transports(console: ConsoleChannel) -> Transports:
    return console_only(console)


def due_periodic(session: Session, customer: Customer, due: Any = NOON) -> CheckIn:
    checkin = CheckIn(
        customer_id=customer.id, kind="periodic", dedupe_key="held", due_at=due, status="scheduled"
    )
    session.add(checkin)
    session.commit()
    return checkin


def test_a_paused_checkin_is_not_sent_by_a_tick_and_is_once_resumed(
    db: sessionmaker[Session], session: Session, cast: dict[str, Any], transports: Transports,
    console: ConsoleChannel,
) -> None:  # fmt: skip
    john = cast["en"]
    checkin = due_periodic(session, john)
    with db.begin() as work:
        holds.pause(work, checkin.id, NOON, "anna (rep)")

    tick(db, NOON, transports, SETTINGS)
    assert console.to("+14155550101") == []
    session.expire_all()
    assert (checkin.status, checkin.reason) == ("scheduled", "paused by anna (rep)")
    assert [item.action for item in upcoming(db, NOON, SETTINGS)] == ["paused"]

    with db.begin() as work:
        holds.resume(work, checkin.id, NOON + timedelta(minutes=5), "anna (rep)")
    tick(db, NOON + timedelta(minutes=10), transports, SETTINGS)
    assert len(console.to("+14155550101")) == 1
    session.expire_all()
    assert checkin.status == "sent" and checkin.paused_at is None
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["checkin.pause", "checkin.resume"]


def test_a_cancelled_checkin_ends_with_its_reason_and_is_never_sent(
    db: sessionmaker[Session], session: Session, cast: dict[str, Any], transports: Transports,
    console: ConsoleChannel,
) -> None:  # fmt: skip
    checkin = due_periodic(session, cast["en"])
    with db.begin() as work:
        holds.cancel(work, checkin.id, NOON, "boss (admin)", "  bought   elsewhere ")
        with pytest.raises(holds.HoldError, match="only a scheduled one"):
            holds.pause(work, checkin.id, NOON, "boss (admin)")
    tick(db, NOON + timedelta(hours=1), transports, SETTINGS)
    assert console.to("+14155550101") == []
    session.expire_all()
    assert (checkin.status, checkin.reason) == (
        "suppressed",
        "cancelled by boss (admin): bought elsewhere",
    )
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.target, entry.detail) == (
        "checkin.cancel", f"check-in {checkin.id}", "bought elsewhere",
    )  # fmt: skip
    with db.begin() as work, pytest.raises(holds.HoldError, match="reason is required"):
        holds.cancel(work, checkin.id, NOON, "boss (admin)", " ")


def test_upcoming_plays_the_next_passes_forward_and_changes_nothing(
    db: sessionmaker[Session], session: Session, cast: dict[str, Any], transports: Transports,
    console: ConsoleChannel,
) -> None:  # fmt: skip
    john = cast["en"]  # New York: 03:00 there is in quiet hours, the 09:00 pass sends
    checkin = due_periodic(session, john, due=at("2026-03-02 08:00"))
    [item] = upcoming(db, at("2026-03-02 08:30"), SETTINGS)
    assert item.checkin_id == checkin.id and item.action == "send"
    assert item.at == at("2026-03-02 14:00")  # 09:00 in New York, when its quiet hours end
    session.expire_all()
    assert (checkin.status, checkin.not_before) == ("scheduled", None)
    assert console.sent == []


def test_the_upcoming_page_shows_a_rep_only_their_own_and_holds_them(
    as_user: Any,  # noqa: F811 - the fixture imported above
    world: World,  # noqa: F811
    session: Session,
) -> None:
    anna = as_user("anna")
    listed = anna.get("/admin/upcoming").text
    assert "John Smith" in listed and "Betty Brown" not in listed and "Carla Cruz" not in listed
    csrf = csrf_of(listed)
    bens, own = world.checkins["rep-2"], world.checkins["rep-1"]
    assert anna.post(f"/admin/upcoming/{bens}/pause", data={"csrf_token": csrf}).status_code == 404
    assert anna.post(f"/admin/upcoming/{own}/pause", data={"csrf_token": csrf}).status_code == 303
    session.expire_all()
    assert session.get_one(CheckIn, own).paused_at is not None
    assert session.get_one(CheckIn, bens).paused_at is None
    assert "Resume" in anna.get("/admin/upcoming").text
    marek = as_user("marek")  # Ben is on Marek's team
    answer = marek.post(f"/admin/upcoming/{bens}/cancel", data={"csrf_token": csrf_of(
        marek.get("/admin/upcoming").text), "reason": "moved away"})  # fmt: skip
    assert answer.status_code == 303
    session.expire_all()
    assert session.get_one(CheckIn, bens).status == "suppressed"
    actors = session.scalars(
        select(AuditEntry.actor).where(AuditEntry.action.like("checkin.%")).order_by(AuditEntry.id)
    ).all()
    assert actors == ["anna (rep)", "marek (manager)"]
