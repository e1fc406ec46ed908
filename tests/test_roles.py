"""Roles, enforced in the query layer: every admin route, tried by an admin, a manager and a rep.

The cast: Marek manages Anna and Ben; Carl is in another manager's team. Each rep
has a customer with an open escalation and an answer on the dashboard. The
route table below must name every route under /admin/ (a new page fails
`test_every_admin_route_is_in_the_table` until someone decides who may open it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import _IncludedRouter
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.passwords import hash_password
from accounts.scope import EVERYONE, Viewer, scope
from clock import utcnow
from messaging.render import template_source
from models import (
    AuditEntry,
    CheckIn,
    Customer,
    Escalation,
    Message,
    Rep,
    TemplateVersion,
    User,
)
from reports.nps import nps_report
from tests.test_admin import answered, csrf_of, log_in, make_app

PASSWORDS = {"boss": "the boss's password", "marek": "marek's password", "anna": "anna's password"}
ROLES = {"boss": "admin", "marek": "manager", "anna": "rep"}


@functools.cache
def hashed(username: str) -> str:
    return hash_password(PASSWORDS[username])


@dataclass(frozen=True)
class World:
    """Ids the route table fills its paths with."""

    escalations: dict[str, int]  # by rep external id
    customers: dict[str, str]  # customer external id by rep external id
    checkins: dict[str, int]  # a scheduled check-in (the Upcoming page's) by rep external id


@pytest.fixture
def world(session: Session, cast: dict[str, Any]) -> World:
    marek, anna = cast["manager"], cast["rep"]
    ben = Rep(external_id="rep-2", name="Ben Thompson", phone="+14155550199", manager=marek)
    other_manager = Rep(external_id="mgr-2", name="Olga Petrova", role="manager")
    carl = Rep(external_id="rep-3", name="Carl Jensen", phone="+4520123456", manager=other_manager)
    session.add_all([ben, other_manager, carl])
    customers = {"rep-1": cast["en"]}
    for rep, external_id, name in (
        (ben, "cust-ben", "Betty Brown"),
        (carl, "cust-carl", "Carla Cruz"),
    ):
        customer = Customer(
            external_id=external_id, name=name, phone=None, language="en", channel="sms", rep=rep
        )
        session.add(customer)
        customers[rep.external_id] = customer
    session.flush()
    escalations, checkins = {}, {}
    for rep_external_id, customer in customers.items():
        response = answered(session, customer, 3, f"unhappy customer of {rep_external_id}")
        session.add(Message(customer_id=customer.id, direction="in", channel="sms",
                            body=f"message from the customer of {rep_external_id}",
                            status="received"))  # fmt: skip
        escalation = Escalation(
            kind="detractor",
            response_id=response.id,
            customer_id=customer.id,
            rep_id=customer.rep_id,
            status="open",
            sla_due_at=utcnow() + timedelta(hours=1),
        )
        session.add(escalation)
        upcoming = CheckIn(customer_id=customer.id, kind="periodic", dedupe_key="upcoming",
                           due_at=utcnow() + timedelta(hours=3), status="scheduled")  # fmt: skip
        session.add(upcoming)
        session.flush()
        escalations[rep_external_id] = escalation.id
        checkins[rep_external_id] = upcoming.id
    session.add(TemplateVersion(key="survey_post_delivery", language="en", version=1,
                                body=template_source("survey_post_delivery", "en")[0]))  # fmt: skip
    reps = {"marek": marek.id, "anna": anna.id}
    for username, role in ROLES.items():
        # What add_user stores, with the hashes made once for the module (argon2 is slow on purpose).
        session.add(User(username=username, role=role, rep_id=reps.get(username),
                         password_hash=hashed(username)))  # fmt: skip
    session.commit()
    return World(
        escalations, {rep: customer.external_id for rep, customer in customers.items()}, checkins
    )


@pytest.fixture
def app(db: sessionmaker[Session]) -> FastAPI:
    return make_app(db, admin_password="")[0]


def logged_in(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    assert log_in(client, username, PASSWORDS[username]).status_code == 303
    return client


@pytest.fixture
def as_user(app: FastAPI, world: World) -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(username: str) -> TestClient:
        client = logged_in(app, username)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# ---------------------------------------------------------------- every route, every role

STAFF, MANAGERS, ADMINS = "staff", "managers", "admins"
# (method, route) -> who may use it (staff: everyone logged in; managers: managers and
# admins; admins), and the form a POST sends. Paths are filled in
# from the rep's own objects, so "staff" routes are tried on what the rep may see.
ROUTES: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("GET", "/admin/"): (STAFF, {}),
    ("GET", "/admin/customers"): (STAFF, {}),
    ("GET", "/admin/customers/{external_id}"): (STAFF, {}),
    ("GET", "/admin/customers/{external_id}/consent.csv"): (STAFF, {}),
    ("POST", "/admin/customers/{external_id}/consent"): (
        STAFF, {"action": "opt_out", "note": "asked on the phone"}),
    ("GET", "/admin/consent.csv"): (ADMINS, {}),
    ("GET", "/admin/escalations"): (STAFF, {}),
    ("POST", "/admin/escalations/{escalation_id}/acknowledge"): (STAFF, {}),
    ("POST", "/admin/escalations/{escalation_id}/resolve"): (STAFF, {"note": "called back"}),
    ("POST", "/admin/escalations/{escalation_id}/note"): (STAFF, {"note": "left a voicemail"}),
    ("POST", "/admin/escalations/{escalation_id}/reassign"): (MANAGERS, {"rep": "rep-2"}),
    ("GET", "/admin/escalations/{escalation_id}"): (STAFF, {}),
    ("GET", "/admin/my"): (STAFF, {}),
    ("GET", "/admin/templates"): (ADMINS, {}),
    ("GET", "/admin/templates/{key}/{language}"): (ADMINS, {}),
    ("POST", "/admin/templates/{key}/{language}"): (ADMINS, {"body": "x"}),
    ("POST", "/admin/templates/{key}/{language}/preview"): (ADMINS, {"body": "x"}),
    ("GET", "/admin/templates/{key}/{language}/versions/{number}"): (ADMINS, {}),
    ("POST", "/admin/templates/{key}/{language}/versions/{number}/restore"): (ADMINS, {}),
    ("GET", "/admin/settings"): (ADMINS, {}),
    ("POST", "/admin/settings"): (ADMINS, {}),
    ("GET", "/admin/users"): (ADMINS, {}),
    ("POST", "/admin/users"): (ADMINS, {"username": "newbie", "role": "admin",
                                        "password": "a long new password"}),
    ("POST", "/admin/users/{username}/disable"): (ADMINS, {}),
    ("POST", "/admin/users/{username}/password"): (ADMINS, {"password": "another long password"}),
    ("POST", "/admin/reps/{rep}/language"): (ADMINS, {"language": "pl"}),
    ("POST", "/admin/reps/{rep}/hours"): (ADMINS, {"working_hours": "Mon-Fri 08:00-16:00"}),
    ("GET", "/admin/audit"): (ADMINS, {}),
    ("GET", "/admin/simulator"): (ADMINS, {}),
    ("GET", "/admin/simulator/{external_id}/thread"): (ADMINS, {}),
    ("POST", "/admin/simulator/{external_id}/reply"): (ADMINS, {"text": "9"}),
    ("POST", "/admin/simulator/{external_id}/button"): (ADMINS, {"checkin_id": "1", "score": "9"}),
    ("POST", "/admin/simulator/tick"): (ADMINS, {}),
    ("POST", "/admin/logout"): (STAFF, {}),
    ("GET", "/admin/responses"): (STAFF, {}),
    ("GET", "/admin/responses.csv"): (STAFF, {}),
    ("GET", "/admin/nps.csv"): (STAFF, {}),
    ("GET", "/admin/escalations.csv"): (ADMINS, {}),
    ("GET", "/admin/import"): (ADMINS, {}),
    ("POST", "/admin/import/preview"): (ADMINS, {"kind": "customers"}),
    ("POST", "/admin/import/confirm"): (ADMINS, {"kind": "customers"}),
    ("GET", "/admin/events"): (ADMINS, {}),
    ("GET", "/admin/upcoming"): (STAFF, {}),
    ("POST", "/admin/upcoming/{checkin_id}/pause"): (STAFF, {}),
    ("POST", "/admin/upcoming/{checkin_id}/resume"): (STAFF, {}),
    ("POST", "/admin/upcoming/{checkin_id}/cancel"): (STAFF, {"reason": "customer asked us to wait"}),
    ("POST", "/admin/events/{row_id}/retry"): (ADMINS, {}),
}  # fmt: skip
# The world has no dead event to retry: an admin is told so (404), the others are refused.
NOTHING_THERE = {("POST", "/admin/events/{row_id}/retry")}
# The world's check-in is not paused: resuming it is refused as a conflict (409), not as access.
NOT_PAUSED = {("POST", "/admin/upcoming/{checkin_id}/resume")}
# Reachable without a session on purpose.
PUBLIC = {("GET", "/admin/login"), ("POST", "/admin/login"), ("GET", "/admin/static/{name}")}


def admin_routes(app: FastAPI) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        # FastAPI 0.16x keeps an included router whole; it lists its routes, prefix and all.
        contexts = (
            route.effective_route_contexts() if isinstance(route, _IncludedRouter) else [route]
        )
        for context in contexts:
            path, methods = getattr(context, "path", ""), getattr(context, "methods", None) or ()
            if path.startswith("/admin"):
                found |= {(method, path) for method in methods}
    return found


def test_every_admin_route_is_in_the_table(app: FastAPI) -> None:
    assert admin_routes(app) - PUBLIC == set(ROUTES)


def concrete(path: str, world: World) -> str:
    values = {
        "external_id": world.customers["rep-1"],
        "escalation_id": str(world.escalations["rep-1"]),
        "key": "survey_post_delivery",
        "language": "en",
        "number": "1",
        "username": "anna",
        "rep": "rep-1",
        "row_id": "1",
        "checkin_id": str(world.checkins["rep-1"]),
    }
    return re.sub(r"\{(\w+)\}", lambda match: values[match[1]], path)


@pytest.mark.parametrize("username", list(ROLES))
@pytest.mark.parametrize(("method", "route"), list(ROUTES))
def test_each_role_may_use_exactly_its_routes(
    as_user: Any, world: World, session: Session, username: str, method: str, route: str
) -> None:
    who, form = ROUTES[(method, route)]
    client = as_user(username)
    path = concrete(route, world)
    if method == "GET":
        answer = client.get(path)
    else:
        csrf = csrf_of(client.get("/admin/customers").text)
        answer = client.post(path, data={**form, "csrf_token": csrf})
    if (who == ADMINS and ROLES[username] != "admin") or (
        who == MANAGERS and ROLES[username] == "rep"
    ):
        assert answer.status_code == 403, answer.text
        return
    allowed = answer.status_code < 400 or answer.status_code == 422
    if (method, route) in NOTHING_THERE:
        allowed = answer.status_code == 404
    if (method, route) in NOT_PAUSED:
        allowed = answer.status_code == 409
    assert allowed, (answer.status_code, answer.text)
    assert "/admin/login" not in answer.headers.get("location", "") or route == "/admin/logout"


def test_a_refused_admin_action_changes_nothing(
    as_user: Any, session: Session, world: World
) -> None:
    client = as_user("marek")
    csrf = csrf_of(client.get("/admin/customers").text)
    client.post("/admin/templates/survey_post_delivery/en", data={"body": "x", "csrf_token": csrf})
    client.post("/admin/users", data={"username": "sneaky", "role": "admin",
                                      "password": "a long new password", "csrf_token": csrf})  # fmt: skip
    assert session.scalars(select(TemplateVersion.version)).all() == [1]
    assert "sneaky" not in client.get("/admin/users").text
    assert as_user("boss").get("/admin/users").text.count("sneaky") == 0


# ---------------------------------------------------------------- what each one sees


def test_a_rep_sees_only_their_own_customers_and_escalations(as_user: Any, world: World) -> None:
    anna = as_user("anna")
    customers = anna.get("/admin/customers").text
    assert "John Smith" in customers
    assert "Betty Brown" not in customers and "Carla Cruz" not in customers
    assert anna.get("/admin/customers/cust-ben").status_code == 404
    assert anna.get("/admin/customers/cust-ben/consent.csv").status_code == 404
    escalations = anna.get("/admin/escalations").text
    assert "unhappy customer of rep-1" in escalations
    assert "unhappy customer of rep-2" not in escalations
    dashboard = anna.get("/admin/").text
    assert "unhappy customer of rep-1" in dashboard
    assert "unhappy customer of rep-2" not in dashboard and "Ben Thompson" not in dashboard
    assert 'href="/admin/templates"' not in dashboard  # the nav offers only what she may open


def test_a_rep_sees_only_their_own_customers_responses(as_user: Any, world: World) -> None:
    anna, marek = as_user("anna"), as_user("marek")
    for path in ("/admin/responses", "/admin/responses.csv"):
        mine = anna.get(path).text
        assert "unhappy customer of rep-1" in mine
        assert "unhappy customer of rep-2" not in mine and "unhappy customer of rep-3" not in mine
        team = marek.get(path).text  # Ben is on Marek's team, Carl is not
        assert "unhappy customer of rep-2" in team and "unhappy customer of rep-3" not in team
    by_rep = anna.get("/admin/nps.csv", params={"by": "rep"}).text
    assert "Ben Thompson" not in by_rep and "Carl Jensen" not in by_rep


def test_a_rep_cannot_act_on_another_reps_escalation(
    as_user: Any, world: World, session: Session
) -> None:
    anna = as_user("anna")
    csrf = csrf_of(anna.get("/admin/escalations").text)
    bens = world.escalations["rep-2"]
    for action, form in (("acknowledge", {}), ("resolve", {"note": "not mine"})):
        answer = anna.post(f"/admin/escalations/{bens}/{action}", data={**form, "csrf_token": csrf})
        assert answer.status_code == 404
    session.expire_all()
    assert session.get_one(Escalation, bens).status == "open"
    answer = anna.post("/admin/customers/cust-ben/consent",
                       data={"action": "opt_out", "note": "x", "csrf_token": csrf})  # fmt: skip
    assert answer.status_code == 404
    assert (
        session.scalars(
            select(Customer.opted_out_at).where(Customer.external_id == "cust-ben")
        ).one()
        is None
    )


def test_a_rep_acts_on_their_own_escalation_and_it_is_audited(
    as_user: Any, world: World, session: Session
) -> None:
    anna = as_user("anna")
    csrf = csrf_of(anna.get("/admin/escalations").text)
    own = world.escalations["rep-1"]
    assert (
        anna.post(f"/admin/escalations/{own}/acknowledge", data={"csrf_token": csrf}).status_code
        == 303
    )
    session.expire_all()
    assert session.get_one(Escalation, own).status == "acknowledged"
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "escalation.acknowledge")
    ).one()
    assert entry.actor == "anna (rep)" and entry.target == f"escalation {own}"


def test_a_manager_sees_their_team_and_no_one_else(as_user: Any, world: World) -> None:
    marek = as_user("marek")
    customers = marek.get("/admin/customers").text
    assert "John Smith" in customers and "Betty Brown" in customers
    assert "Carla Cruz" not in customers
    assert marek.get("/admin/customers/cust-ben").status_code == 200
    assert marek.get("/admin/customers/cust-carl").status_code == 404
    escalations = marek.get("/admin/escalations").text
    assert "unhappy customer of rep-1" in escalations and "unhappy customer of rep-2" in escalations
    assert "unhappy customer of rep-3" not in escalations
    csrf = csrf_of(escalations)
    carls = world.escalations["rep-3"]
    assert (
        marek.post(f"/admin/escalations/{carls}/acknowledge", data={"csrf_token": csrf}).status_code
        == 404
    )


def test_an_admin_sees_everyone(as_user: Any, world: World) -> None:
    boss = as_user("boss")
    customers = boss.get("/admin/customers").text
    assert all(name in customers for name in ("John Smith", "Betty Brown", "Carla Cruz"))
    escalations = boss.get("/admin/escalations").text
    assert all(f"unhappy customer of rep-{n}" in escalations for n in (1, 2, 3))


# ---------------------------------------------------------------- the scoping function itself


def test_scope_narrows_joins_aliases_and_reports(
    session: Session, world: World, cast: dict
) -> None:
    anna = Viewer("anna", "rep", cast["rep"].id)
    marek = Viewer("marek", "manager", cast["manager"].id)
    names = select(Customer.name).order_by(Customer.name)
    assert "Betty Brown" not in session.scalars(scope(names, anna)).all()
    assert "Betty Brown" in session.scalars(scope(names, marek)).all()
    assert len(session.scalars(scope(names, EVERYONE)).all()) == 7
    # Through a join and an alias, each table is narrowed as the query names it.
    from sqlalchemy.orm import aliased

    other = aliased(Customer)
    bodies = select(Message.body).join(other, other.id == Message.customer_id)
    assert session.scalars(scope(bodies, anna)).all() == ["message from the customer of rep-1"]
    # A rep's NPS is their own customers'; a user with no rep sees nothing, never everything.
    assert nps_report(session, viewer=anna).overall.responses == 1
    assert nps_report(session, viewer=marek).overall.responses == 2
    assert nps_report(session).overall.responses == 3
    nobody = Viewer("lost", "rep", None)
    assert session.scalars(scope(names, nobody)).all() == []
    assert session.scalars(scope(select(AuditEntry.id), anna)).all() == []


ADMIN_LINK = re.compile(
    r'href="/admin/(templates|settings|users|audit|simulator|consent\.csv|escalations\.csv)'
)


@pytest.mark.parametrize("username", ["marek", "anna"])
def test_pages_offer_a_manager_or_rep_no_link_they_would_get_403_for(
    as_user: Any, world: World, username: str
) -> None:
    client = as_user(username)
    for (method, route), (who, _form) in ROUTES.items():
        if method == "GET" and who == STAFF and not route.endswith(".csv"):
            page = client.get(concrete(route, world)).text
            assert not ADMIN_LINK.search(page), (route, ADMIN_LINK.search(page))
