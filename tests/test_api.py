"""web.app and the JSON API: the token, each endpoint's fields, errors, and the OpenAPI document."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import Session, sessionmaker

from models import CheckIn, Customer, Escalation, Message, Purchase, Response
from models.db import make_engine, session_factory
from settings import Settings
from tests.conftest import at
from web.app import create_app

with warnings.catch_warnings():
    # Starlette now prefers httpx2 for its test client; httpx is what we have pinned.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOKEN = "secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
_keys = itertools.count(1)


def make_client(db: sessionmaker[Session], **settings: Any) -> TestClient:
    return TestClient(create_app(db, Settings(**{"api_token": TOKEN, **settings})))


@pytest.fixture
def client(db: sessionmaker[Session]) -> Iterator[TestClient]:
    with make_client(db, telegram_bot_username="acme_care_bot") as test_client:
        yield test_client


def get(client: TestClient, path: str, **params: str) -> Any:
    answer = client.get(path, params=params, headers=AUTH)
    assert answer.status_code == 200, answer.text
    return answer.json()


def checkin(session: Session, customer: Customer, **fields: Any) -> CheckIn:
    fields.setdefault("kind", "post_delivery")
    fields.setdefault("due_at", at("2026-03-01 10:00"))
    row = CheckIn(customer_id=customer.id, dedupe_key=f"k{next(_keys)}", **fields)
    session.add(row)
    session.flush()
    return row


def scored(session: Session, customer: Customer, score: int, comment: str = "") -> Response:
    answered = checkin(session, customer, status="answered", sent_at=at("2026-03-01 10:00"))
    response = Response(
        checkin_id=answered.id,
        customer_id=customer.id,
        score=score,
        category="detractor" if score <= 6 else "passive" if score <= 8 else "promoter",
        comment=comment,
        channel="sms",
        received_at=at("2026-03-01 11:00"),
    )
    session.add(response)
    session.flush()
    return response


def escalation(session: Session, customer: Customer, **fields: Any) -> Escalation:
    fields.setdefault("sla_due_at", at("2026-03-01 13:00"))
    fields.setdefault("created_at", at("2026-03-01 11:00"))
    row = Escalation(customer_id=customer.id, **fields)
    session.add(row)
    session.flush()
    return row


# The token ---------------------------------------------------------------------------------

API_PATHS = [
    "/api/customers/cust-en",
    "/api/messages?customer=cust-en",
    "/api/checkins?customer=cust-en",
    "/api/escalations",
    "/api/nps",
]


@pytest.mark.parametrize("path", API_PATHS)
def test_every_api_path_needs_the_token(
    client: TestClient, cast: dict[str, Any], path: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["detail"]
    assert client.get(path, headers=AUTH).status_code == 200


def test_a_wrong_token_is_told_so(client: TestClient) -> None:
    answer = client.get("/api/escalations", headers={"Authorization": "Bearer secreT"})
    assert answer.json() == {"detail": "Wrong API token."}


def test_without_a_configured_token_the_api_is_closed_to_everyone(
    db: sessionmaker[Session],
) -> None:
    with make_client(db, api_token="") as closed:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
            answer = closed.get("/api/escalations", headers=headers)
            assert answer.status_code == 401
            assert "AFTERCARE_API_TOKEN is not set" in answer.json()["detail"]


# Health ------------------------------------------------------------------------------------


def test_healthz_needs_no_token_and_checks_the_database(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "database": "ok",
        "channels": {"sms": "console", "telegram": "console", "email": "console"},
    }


def test_healthz_is_503_when_the_database_is_down(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'db.sqlite3'}")
    with TestClient(create_app(session_factory(engine), Settings())) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "error" and answer.json()["database"] == "unavailable"


# The app factory ---------------------------------------------------------------------------


def test_the_app_keeps_its_session_factory_and_settings(db: sessionmaker[Session]) -> None:
    settings = Settings(api_token=TOKEN)
    app = create_app(db, settings)
    assert app.state.session_factory is db
    assert app.state.settings is settings


def test_extra_routers_are_included(db: sessionmaker[Session]) -> None:
    extra = APIRouter()

    @extra.get("/webhooks/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    with TestClient(create_app(db, Settings(), extra_routers=[extra])) as client:
        assert client.get("/webhooks/ping").json() == {"pong": "yes"}


def test_lifespan_hooks_start_in_order_and_stop_in_reverse(db: sessionmaker[Session]) -> None:
    events: list[str] = []

    def hook(name: str) -> Any:
        @asynccontextmanager
        async def run(app: FastAPI) -> AsyncIterator[None]:
            assert app.state.session_factory is db
            events.append(f"start {name}")
            yield
            events.append(f"stop {name}")

        return run

    app = create_app(db, Settings(), lifespan_hooks=[hook("bot"), hook("scheduler")])
    with TestClient(app):
        assert events == ["start bot", "start scheduler"]
    assert events[2:] == ["stop scheduler", "stop bot"]


# Customers ---------------------------------------------------------------------------------


def test_a_customer_with_every_field(client: TestClient, cast: dict[str, Any]) -> None:
    customer = get(client, "/api/customers/cust-pl")
    token = cast["pl"].telegram_link_token
    assert customer == {
        "external_id": "cust-pl",
        "name": "Agnieszka Wiśniewska",
        "phone": "+48601234567",
        "email": None,
        "language": "pl",
        "timezone": "Europe/Warsaw",
        "channel": "sms",
        "rep_external_id": "rep-1",
        "tags": [],
        "opted_out": False,
        "opted_out_at": None,
        "telegram_linked": False,
        "telegram_link_token": token,
        "telegram_start_link": f"https://t.me/acme_care_bot?start={token}",
    }


def test_an_opted_out_linked_customer(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    customer = cast["en"]
    customer.opted_out_at = at("2026-03-02 08:15")
    customer.telegram_chat_id = 123456789
    customer.tags = ["vip", "fleet"]
    customer.channel = "telegram"
    session.commit()
    found = get(client, "/api/customers/cust-en")
    assert found["opted_out"] is True
    assert found["opted_out_at"] == "2026-03-02T08:15:00+00:00"
    assert found["telegram_linked"] is True
    assert found["tags"] == ["vip", "fleet"]
    assert found["channel"] == "telegram"


def test_a_customer_without_a_rep(client: TestClient, session: Session) -> None:
    session.add(Customer(external_id="solo", name="Solo"))
    session.commit()
    assert get(client, "/api/customers/solo")["rep_external_id"] is None


def test_the_start_link_is_null_until_the_bot_username_is_known(
    db: sessionmaker[Session], cast: dict[str, Any]
) -> None:
    with make_client(db) as client:
        assert get(client, "/api/customers/cust-en")["telegram_start_link"] is None
        client.app.state.telegram_bot_username = "learned_bot"  # type: ignore[attr-defined]
        link = get(client, "/api/customers/cust-en")["telegram_start_link"]
    assert link == f"https://t.me/learned_bot?start={cast['en'].telegram_link_token}"


@pytest.mark.parametrize(
    "path",
    ["/api/customers/nobody", "/api/messages?customer=nobody", "/api/checkins?customer=nobody"],
)
def test_an_unknown_customer_is_404(client: TestClient, cast: dict[str, Any], path: str) -> None:
    answer = client.get(path, headers=AUTH)
    assert answer.status_code == 404
    assert answer.json() == {"detail": "No customer 'nobody'."}


@pytest.mark.parametrize("path", ["/api/messages", "/api/checkins"])
def test_the_customer_parameter_is_required(client: TestClient, path: str) -> None:
    answer = client.get(path, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "customer"]


# Messages ----------------------------------------------------------------------------------


def test_messages_oldest_first_with_their_fields(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    customer, other = cast["en"], cast["pl"]

    def message(who: Customer, created: datetime, **fields: Any) -> None:
        session.add(Message(customer_id=who.id, created_at=created, **fields))

    message(
        customer, at("2026-03-01 10:05"), direction="in", channel="sms", body="9", status="received"
    )
    message(
        customer,
        at("2026-03-01 10:00"),
        direction="out",
        channel="sms",
        body="Hi John, how likely…",
        status="delivered",
        purpose="survey",
        sent_at=at("2026-03-01 10:00:02"),
    )
    message(other, at("2026-03-01 09:00"), direction="out", channel="sms", body="x", status="sent")
    session.commit()
    messages = get(client, "/api/messages", customer="cust-en")
    assert [m["direction"] for m in messages] == ["out", "in"]
    first = dict(messages[0])
    assert isinstance(first.pop("id"), int)
    assert first == {
        "direction": "out",
        "channel": "sms",
        "body": "Hi John, how likely…",
        "status": "delivered",
        "purpose": "survey",
        "created_at": "2026-03-01T10:00:00+00:00",
        "sent_at": "2026-03-01T10:00:02+00:00",
    }
    assert messages[1]["sent_at"] is None


def test_no_messages_is_an_empty_list(client: TestClient, cast: dict[str, Any]) -> None:
    assert get(client, "/api/messages", customer="cust-en") == []


# Check-ins ---------------------------------------------------------------------------------


def test_checkins_with_status_score_reason_and_product(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    customer = cast["en"]
    car = Purchase(external_id="p1", customer_id=customer.id, product="Model 3", category="car")
    session.add(car)
    session.flush()
    answered = scored(session, customer, 4).checkin
    answered.purchase_id = car.id
    answered.channel = "sms"
    checkin(
        session,
        customer,
        kind="periodic",
        status="suppressed",
        reason="throttled: a survey went out on 2026-03-01",
        due_at=at("2026-03-05 10:00"),
    )
    checkin(
        session,
        customer,
        kind="service",
        status="queued",
        due_at=at("2026-03-04 02:00"),
        not_before=at("2026-03-04 14:00"),
        reason="quiet hours in America/New_York",
    )
    checkin(
        session,
        customer,
        kind="delay_notice",
        status="failed",
        due_at=at("2026-03-06 10:00"),
        reason="stale",
        error="21610: unsubscribed recipient",
    )
    session.commit()

    checkins = get(client, "/api/checkins", customer="cust-en")
    assert [c["kind"] for c in checkins] == ["post_delivery", "service", "periodic", "delay_notice"]
    first, waiting, suppressed, failed = checkins
    assert first == {
        "id": answered.id,
        "kind": "post_delivery",
        "status": "answered",
        "due_at": "2026-03-01T10:00:00+00:00",
        "not_before": None,
        "sent_at": "2026-03-01T10:00:00+00:00",
        "score": 4,
        "reason": None,
        "error": None,
        "channel": "sms",
        "product": "Model 3",
    }
    assert waiting["status"] == "scheduled"  # internal `queued`
    assert waiting["reason"] == "quiet hours in America/New_York"
    assert waiting["not_before"] == "2026-03-04T14:00:00+00:00"
    assert (waiting["score"], waiting["product"]) == (None, None)
    assert suppressed["status"] == "suppressed"
    assert suppressed["reason"] == "throttled: a survey went out on 2026-03-01"
    assert (failed["status"], failed["reason"]) == ("failed", None)
    assert failed["error"] == "21610: unsubscribed recipient"


def test_checkins_with_the_same_due_time_keep_their_creation_order(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    ids = [checkin(session, cast["en"], kind=kind).id for kind in ("service", "periodic")]
    session.commit()
    assert [c["id"] for c in get(client, "/api/checkins", customer="cust-en")] == ids


@pytest.mark.parametrize(
    "status", ["scheduled", "queued", "sent", "answered", "expired", "suppressed", "failed"]
)
def test_every_internal_status_shows_as_an_allowed_one(
    client: TestClient, session: Session, cast: dict[str, Any], status: str
) -> None:
    checkin(session, cast["en"], status=status)
    session.commit()
    [shown] = get(client, "/api/checkins", customer="cust-en")
    assert shown["status"] == ("scheduled" if status == "queued" else status)


# Escalations -------------------------------------------------------------------------------


def test_escalations_with_their_fields(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    response = scored(session, cast["en"], 2, comment="The car came scratched")
    row = escalation(
        session,
        cast["en"],
        response_id=response.id,
        rep_id=cast["rep"].id,
        escalated_to_manager_at=at("2026-03-01 13:00"),
        manager_id=cast["manager"].id,
    )
    session.commit()
    assert get(client, "/api/escalations") == [
        {
            "id": row.id,
            "kind": "detractor",
            "customer_external_id": "cust-en",
            "rep_external_id": "rep-1",
            "score": 2,
            "comment": "The car came scratched",
            "status": "open",
            "escalated_to_manager": True,
            "resolution_note": None,
            "created_at": "2026-03-01T11:00:00+00:00",
            "sla_due_at": "2026-03-01T13:00:00+00:00",
            "acknowledged_at": None,
            "resolved_at": None,
        }
    ]


def test_a_forwarded_message_escalation_has_no_score_and_the_text_as_comment(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    message = Message(
        customer_id=cast["pl"].id, direction="in", channel="sms", body="Call me", status="received"
    )
    session.add(message)
    session.flush()
    escalation(session, cast["pl"], kind="needs_answer", message_id=message.id)
    session.commit()
    [found] = get(client, "/api/escalations")
    assert (found["kind"], found["score"], found["comment"]) == ("needs_answer", None, "Call me")
    assert (found["rep_external_id"], found["escalated_to_manager"]) == (None, False)


def test_escalations_filter_by_status(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    opened = escalation(session, cast["en"], response_id=scored(session, cast["en"], 1).id)
    resolved = escalation(
        session,
        cast["pl"],
        response_id=scored(session, cast["pl"], 5).id,
        status="resolved",
        acknowledged_at=at("2026-03-01 11:30"),
        resolved_at=at("2026-03-01 12:00"),
        resolution_note="Replaced the part",
        created_at=at("2026-03-01 10:00"),
    )
    session.commit()
    assert [e["id"] for e in get(client, "/api/escalations")] == [resolved.id, opened.id]
    assert [e["id"] for e in get(client, "/api/escalations", status="open")] == [opened.id]
    assert get(client, "/api/escalations", status="acknowledged") == []
    [done] = get(client, "/api/escalations", status="resolved")
    assert done["resolution_note"] == "Replaced the part"
    assert done["resolved_at"] == "2026-03-01T12:00:00+00:00"
    assert done["comment"] is None  # no comment given


def test_an_unknown_escalation_status_is_422(client: TestClient) -> None:
    answer = client.get("/api/escalations", params={"status": "closed"}, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "status"]


def test_an_empty_escalation_status_means_every_status(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    escalation(session, cast["en"], response_id=scored(session, cast["en"], 2).id)
    session.commit()
    assert get(client, "/api/escalations", status="") == get(client, "/api/escalations")


def test_an_escalation_id_no_database_can_hold_is_422_not_a_crash(client: TestClient) -> None:
    answer = client.get(f"/api/escalations/{2**63}/events", headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["path", "escalation_id"]


# NPS (the numbers themselves are in test_nps.py) -------------------------------------------


def test_nps_over_the_api(client: TestClient, session: Session, cast: dict[str, Any]) -> None:
    for score in (10, 9, 3):
        scored(session, cast["en"], score)
    session.commit()
    document = get(client, "/api/nps", since="2026-03-01", until="2026-03-01", by="rep")
    assert (document["nps"], document["responses"]) == (33.3, 3)
    assert (document["since"], document["until"]) == (
        "2026-03-01T00:00:00+00:00",
        "2026-03-02T00:00:00+00:00",
    )
    assert [(g["key"], g["responses"]) for g in document["groups"]] == [("rep-1", 3)]


def test_empty_nps_parameters_are_absent_ones(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    # The contract spells the call `GET /api/nps?since=&until=&by=`.
    for score in (10, 9, 3):
        scored(session, cast["en"], score)
    session.commit()
    answer = client.get("/api/nps?since=&until=&by=", headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json() == get(client, "/api/nps")
    assert answer.json()["groups"] == [] and answer.json()["responses"] == 3
    assert get(client, "/api/mix", by="") == get(client, "/api/mix", by="rep")


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("0001-01-01", "9999-12-31"),
        ("0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"),
        ("2026-03-01t00:00:00z", "2026-03-02T00:00:00Z"),
    ],
)
@pytest.mark.parametrize("path", ["/api/nps", "/api/mix", "/api/escalations/metrics"])
def test_windows_reaching_the_ends_of_the_calendar_are_answered(
    client: TestClient, path: str, since: str, until: str
) -> None:
    answer = client.get(path, params={"since": since, "until": until}, headers=AUTH)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "last week"}, "since"),
        ({"since": " "}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"by": "colour"}, "by"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until"),
    ],
)
def test_bad_nps_parameters_are_422_naming_the_parameter(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    answer = client.get("/api/nps", params=params, headers=AUTH)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["query", field]


# OpenAPI -----------------------------------------------------------------------------------


def test_openapi_lists_the_endpoints_and_the_bearer_scheme(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    assert {
        "/healthz",
        "/api/customers/{external_id}",
        "/api/messages",
        "/api/checkins",
        "/api/escalations",
        "/api/nps",
    } <= set(paths)
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The value of AFTERCARE_API_TOKEN, sent as `Authorization: Bearer <token>`.",
    }
    for path, operations in paths.items():
        for method, operation in operations.items():
            security = operation.get("security")
            if path.startswith("/api/"):
                assert security == [{"bearerAuth": []}], (method, path)
                assert "401" in operation["responses"], (method, path)
            else:
                assert security is None, (method, path)
    statuses = document["components"]["schemas"]["CheckInOut"]["properties"]["status"]["enum"]
    assert "queued" not in statuses and "scheduled" in statuses


def test_openapi_needs_no_token(db: sessionmaker[Session]) -> None:
    with make_client(db, api_token="") as client:
        assert client.get("/openapi.json").status_code == 200


def test_datetimes_carry_an_explicit_utc_offset(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    checkin(session, cast["en"], due_at=at("2026-03-01 10:00") + timedelta(microseconds=5))
    session.commit()
    [shown] = get(client, "/api/checkins", customer="cust-en")
    assert shown["due_at"] == "2026-03-01T10:00:00.000005+00:00"
