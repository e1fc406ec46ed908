"""The write API: upserts by external_id with the CSV import's rules, batches, deliveries, consent.

Every test runs on SQLite and PostgreSQL. The API takes its clock from the
system, so times here are relative to the real now; the scheduler's pass,
which takes its `now`, then runs at a chosen instant after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from messaging.channels import ConsoleChannel, console_only
from models import CheckIn, ConsentEvent, Customer, Purchase, Rep
from scheduler.tick import tick
from settings import Settings
from tests.test_api import AUTH, TestClient, make_client

SETTINGS = Settings(business_name="Kowalski Motors", default_tz="UTC")


@pytest.fixture
def client(db: sessionmaker[Session]) -> Iterator[TestClient]:
    with make_client(db) as test_client:
        yield test_client


def post(client: TestClient, path: str, body: Any = None, **headers: str) -> httpx.Response:
    return client.post(path, json=body, headers={**AUTH, **headers})


def problems(answer: httpx.Response) -> list[tuple[tuple[Any, ...], str]]:
    assert answer.status_code == 422, answer.text
    return [(tuple(problem["loc"]), problem["msg"]) for problem in answer.json()["detail"]]


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def stored(session: Session, model: Any, external_id: str) -> Any:
    session.expire_all()
    return session.scalars(select(model).where(model.external_id == external_id)).one()


@pytest.fixture
def anna(client: TestClient) -> dict[str, Any]:
    answer = post(client, "/api/reps", {"external_id": "rep-anna", "name": "Anna Kowalska"})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture
def jan(client: TestClient, anna: dict[str, Any]) -> dict[str, Any]:
    body = {
        "external_id": "cust-jan",
        "name": "Jan Kowalski",
        "phone": "+48 601 234 567",
        "language": "pl",
        "timezone": "UTC",
        "rep_external_id": "rep-anna",
    }
    answer = post(client, "/api/customers", body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def purchase(client: TestClient, external_id: str, **fields: Any) -> httpx.Response:
    body = {"external_id": external_id, "customer_external_id": "cust-jan", "product": "Skoda"}
    return post(client, "/api/purchases", {**body, **fields})


# Customers ---------------------------------------------------------------------------------


def test_a_new_customer_is_201_with_the_phone_in_e164(
    client: TestClient, jan: dict[str, Any]
) -> None:
    assert jan["phone"] == "+48601234567"
    assert (jan["language"], jan["channel"], jan["rep_external_id"]) == ("pl", "sms", "rep-anna")
    assert jan["opted_out"] is False
    assert client.get("/api/customers/cust-jan", headers=AUTH).json() == jan


def test_the_same_customer_again_is_200_and_absent_or_empty_fields_keep_what_is_stored(
    client: TestClient, session: Session, jan: dict[str, Any]
) -> None:
    answer = post(
        client,
        "/api/customers",
        {"external_id": "cust-jan", "name": "Jan Kowalski", "tags": ["vip"], "timezone": ""},
    )
    assert answer.status_code == 200, answer.text
    # The bot learned the chat id itself; a CRM that does not know it must not erase it.
    customer = stored(session, Customer, "cust-jan")
    customer.telegram_chat_id = 9001
    session.commit()

    answer = post(
        client,
        "/api/customers",
        {"external_id": "cust-jan", "name": "Jan K.", "phone": "", "language": None},
    )
    assert answer.status_code == 200, answer.text
    customer = stored(session, Customer, "cust-jan")
    assert (customer.name, customer.phone, customer.language) == ("Jan K.", "+48601234567", "pl")
    assert (customer.timezone, customer.tags, customer.telegram_chat_id) == ("UTC", ["vip"], 9001)
    assert customer.rep is not None and customer.rep.external_id == "rep-anna"
    assert count(session, Customer) == 1


def test_every_bad_field_is_named_and_nothing_is_written(
    client: TestClient, session: Session, jan: dict[str, Any]
) -> None:
    answer = post(
        client,
        "/api/customers",
        {
            "external_id": "cust-jan",
            "name": "Jan",
            "phone": "601234567",
            "language": "de",
            "timezone": "europe/warsaw",
            "channel": "fax",
            "rep_external_id": "rep-nobody",
        },
    )
    assert problems(answer) == [
        (("body", "phone"), "'601234567' is not in international format (+country code)"),
        (("body", "language"), "'de' is not one of en, pl, uk, ru, th"),
        (
            ("body", "timezone"),
            "'europe/warsaw' is not a known time zone (did you mean Europe/Warsaw?)",
        ),
        (("body", "channel"), "'fax' is not one of sms, telegram, email"),
        (("body", "rep_external_id"), "unknown rep 'rep-nobody' (create it first: POST /api/reps)"),
    ]
    customer = stored(session, Customer, "cust-jan")
    assert (customer.name, customer.language, customer.timezone) == ("Jan Kowalski", "pl", "UTC")


def test_a_channel_without_its_contact_field_is_422(client: TestClient, session: Session) -> None:
    answer = post(client, "/api/customers", {"external_id": "c-1", "name": "Ewa", "channel": "sms"})
    assert problems(answer) == [(("body", "phone"), "channel sms needs a phone")]
    assert count(session, Customer) == 0


def test_a_phone_that_belongs_to_another_customer_is_422(
    client: TestClient, session: Session, jan: dict[str, Any]
) -> None:
    answer = post(
        client, "/api/customers", {"external_id": "c-2", "name": "Ewa", "phone": "+48601234567"}
    )
    assert problems(answer) == [
        (("body", "phone"), "+48601234567 already belongs to customer 'cust-jan'")
    ]
    assert count(session, Customer) == 1


def test_an_unknown_rep_alone_is_404_and_nothing_is_written(
    client: TestClient, session: Session, anna: dict[str, Any]
) -> None:
    body = {"external_id": "c-3", "name": "Ewa", "phone": "+48601234502", "rep_external_id": "x"}
    answer = post(client, "/api/customers", body)
    assert answer.status_code == 404
    assert answer.json() == {
        "detail": "rep_external_id: unknown rep 'x' (create it first: POST /api/reps)"
    }
    assert count(session, Customer) == 0


def test_required_and_unknown_fields_are_named(client: TestClient) -> None:
    answer = post(client, "/api/customers", {"external_id": "c-4", "name": "", "fax": "1"})
    assert answer.status_code == 422
    named = {tuple(problem["loc"]) for problem in answer.json()["detail"]}
    assert ("body", "fax") in named
    answer = post(
        client, "/api/customers", {"external_id": "c-4", "name": " ", "phone": "+48601234503"}
    )
    assert problems(answer) == [(("body", "name"), "is required")]


def test_writes_need_the_token(client: TestClient) -> None:
    for path in ("/api/customers", "/api/reps", "/api/purchases", "/api/purchases:batch"):
        answer = client.post(path, json={})
        assert answer.status_code == 401, path


# Reps --------------------------------------------------------------------------------------


def test_a_rep_and_their_manager(
    client: TestClient, session: Session, anna: dict[str, Any]
) -> None:
    answer = post(
        client,
        "/api/reps",
        {
            "external_id": "mgr-marek",
            "name": "Marek Nowak",
            "role": "manager",
            "phone": "+48 600 000 001",
        },
    )
    assert answer.status_code == 201, answer.text
    answer = post(
        client,
        "/api/reps",
        {"external_id": "rep-anna", "name": "Anna Kowalska", "manager_external_id": "mgr-marek"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "external_id": "rep-anna",
        "name": "Anna Kowalska",
        "phone": None,
        "telegram_chat_id": None,
        "email": None,
        "role": "rep",
        "manager_external_id": "mgr-marek",
        "working_hours": None,
        "language": None,
    }
    rep = stored(session, Rep, "rep-anna")
    assert rep.manager is not None and rep.manager.external_id == "mgr-marek"


def test_an_unknown_manager_is_404_and_a_loop_is_422(
    client: TestClient, session: Session, anna: dict[str, Any]
) -> None:
    body = {"external_id": "rep-anna", "name": "Anna", "manager_external_id": "nobody"}
    answer = post(client, "/api/reps", body)
    assert answer.status_code == 404
    assert (
        "unknown rep 'nobody' (not in this request nor in the database)" in answer.json()["detail"]
    )
    post(
        client, "/api/reps", {"external_id": "mgr", "name": "M", "manager_external_id": "rep-anna"}
    )
    answer = post(client, "/api/reps", {**body, "manager_external_id": "mgr"})
    assert problems(answer) == [
        (("body", "manager_external_id"), "management chain loops: rep-anna -> mgr -> rep-anna")
    ]
    assert stored(session, Rep, "rep-anna").manager is None


# Purchases ---------------------------------------------------------------------------------


def test_a_purchase_is_created_then_updated_keeping_what_is_absent(
    client: TestClient, session: Session, jan: dict[str, Any]
) -> None:
    answer = purchase(
        client,
        "ord-1",
        category="Car",
        purchased_at="2026-03-01T14:30",
        promised_delivery_date="2026-03-20",
        rep_external_id="rep-anna",
    )
    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "external_id": "ord-1",
        "customer_external_id": "cust-jan",
        "product": "Skoda",
        "category": "car",
        "purchased_at": "2026-03-01T14:30:00+00:00",  # no zone: the customer's (UTC)
        "promised_delivery_date": "2026-03-20",
        "delivered_at": None,
        "rep_external_id": "rep-anna",
        "post_delivery_checkin": None,
    }
    answer = purchase(client, "ord-1", product="Skoda Octavia", category=None, rep_external_id="")
    assert answer.status_code == 200, answer.text
    saved = stored(session, Purchase, "ord-1")
    assert (saved.product, saved.category, saved.rep_id is not None) == (
        "Skoda Octavia",
        "car",
        True,
    )


def test_an_unknown_customer_is_404_and_a_bad_time_is_422(
    client: TestClient, session: Session, jan: dict[str, Any]
) -> None:
    answer = post(
        client,
        "/api/purchases",
        {"external_id": "ord-2", "customer_external_id": "cust-nobody", "product": "Sofa"},
    )
    assert answer.status_code == 404
    assert answer.json()["detail"] == (
        "customer_external_id: unknown customer 'cust-nobody' "
        "(create it first: POST /api/customers)"
    )
    answer = purchase(client, "ord-2", delivered_at="yesterday", promised_delivery_date="2026-3-1")
    assert [loc for loc, _ in problems(answer)] == [
        ("body", "promised_delivery_date"),
        ("body", "delivered_at"),
    ]
    assert count(session, Purchase) == 0


# Batches -----------------------------------------------------------------------------------


def test_a_batch_of_purchases_is_written_at_once(
    client: TestClient, session: Session, jan: dict[str, Any]
) -> None:
    purchase(client, "ord-1", category="car")
    future = (utcnow() + timedelta(days=2)).isoformat()
    rows = [
        {"external_id": "ord-1", "customer_external_id": "cust-jan", "product": "Skoda"},
        {"external_id": "ord-2", "customer_external_id": "cust-jan", "product": "Tyres"},
        {
            "external_id": "ord-3",
            "customer_external_id": "cust-jan",
            "product": "Mats",
            "delivered_at": future,
        },
    ]
    answer = post(client, "/api/purchases:batch", {"rows": rows})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 1)
    [warning] = body["warnings"]
    assert (warning["row"], warning["field"]) == (2, "delivered_at")
    assert "in the future" in warning["message"]
    assert count(session, Purchase) == 3


def test_one_bad_row_writes_nothing_and_every_bad_row_is_named_by_its_index(
    client: TestClient, session: Session, jan: dict[str, Any]
) -> None:
    rows = [
        {"external_id": "ord-1", "customer_external_id": "cust-jan", "product": "Skoda"},
        {"external_id": "ord-2", "customer_external_id": "cust-nobody", "product": "Tyres"},
        {
            "external_id": "ord-3",
            "customer_external_id": "cust-jan",
            "product": "Mats",
            "purchased_at": "soon",
        },
        {"external_id": "ord-1", "customer_external_id": "cust-jan", "product": "Again"},
    ]
    answer = post(client, "/api/purchases:batch", {"rows": rows})
    assert [loc for loc, _ in problems(answer)] == [
        ("body", "rows", 1, "customer_external_id"),
        ("body", "rows", 2, "purchased_at"),
        ("body", "rows", 3, "external_id"),
    ]
    assert problems(answer)[2][1] == "'ord-1' already appears on rows[0]"
    assert count(session, Purchase) == 0


def test_a_batch_is_at_most_a_thousand_rows(client: TestClient, jan: dict[str, Any]) -> None:
    row = {"customer_external_id": "cust-jan", "product": "Mats"}
    rows = [{**row, "external_id": f"ord-{n}"} for n in range(1001)]
    answer = post(client, "/api/purchases:batch", {"rows": rows})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "rows"]
    answer = post(client, "/api/purchases:batch", {"rows": rows[:1000]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["created"] == 1000


def test_a_batch_of_customers_and_of_reps(
    client: TestClient, session: Session, anna: dict[str, Any]
) -> None:
    reps = [
        {"external_id": "rep-2", "name": "Piotr", "manager_external_id": "mgr-2"},
        {"external_id": "mgr-2", "name": "Maria", "role": "manager"},
    ]
    answer = post(client, "/api/reps:batch", {"rows": reps})
    assert answer.status_code == 200, answer.text
    assert stored(session, Rep, "rep-2").manager.external_id == "mgr-2"
    customers = [
        {"external_id": "c-1", "name": "Ewa", "phone": "+48601234501", "rep_external_id": "rep-2"},
        {"external_id": "c-2", "name": "Olek", "phone": "+48601234501"},
    ]
    answer = post(client, "/api/customers:batch", {"rows": customers})
    assert problems(answer) == [(("body", "rows", 1, "phone"), "+48601234501 is also on rows[0]")]
    customers[1]["phone"] = "+48601234502"
    answer = post(client, "/api/customers:batch", {"rows": customers})
    assert answer.json()["created"] == 2
    assert count(session, Customer) == 2


# Deliveries --------------------------------------------------------------------------------


def test_delivered_plans_the_post_delivery_checkin_and_the_tick_sends_it(
    client: TestClient,
    db: sessionmaker[Session],
    session: Session,
    jan: dict[str, Any],
    console: ConsoleChannel,
) -> None:
    purchase(client, "ord-1", category="car")
    delivered = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    answer = post(client, "/api/purchases/ord-1/delivered", {"delivered_at": delivered.isoformat()})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["delivered_at"] == delivered.isoformat()
    checkin = body["post_delivery_checkin"]
    due = delivered + timedelta(days=1)  # a car: the day after
    assert (checkin["kind"], checkin["status"], checkin["due_at"]) == (
        "post_delivery",
        "scheduled",
        due.isoformat(),
    )
    listed = client.get("/api/checkins", params={"customer": "cust-jan"}, headers=AUTH).json()
    assert [(c["id"], c["kind"], c["due_at"]) for c in listed] == [
        (checkin["id"], "post_delivery", due.isoformat())
    ]
    # The pass finds it planned (no second one) and sends it when it falls due, by name.
    noon = due.replace(hour=12, minute=0, second=0) + timedelta(days=1)
    tick(db, noon, console_only(console), SETTINGS)
    [text] = console.to("+48601234567")
    assert "Jan" in text
    assert count(session, CheckIn) == 1


def test_delivered_without_a_time_means_now_and_a_correction_moves_the_checkin(
    client: TestClient, session: Session, jan: dict[str, Any]
) -> None:
    purchase(client, "ord-1", category="garage")
    before = utcnow()
    answer = post(client, "/api/purchases/ord-1/delivered")
    assert answer.status_code == 200, answer.text
    delivered = datetime.fromisoformat(answer.json()["delivered_at"])
    assert before <= delivered <= utcnow()
    first = answer.json()["post_delivery_checkin"]
    assert datetime.fromisoformat(first["due_at"]) == delivered + timedelta(days=7)

    corrected = (delivered - timedelta(days=1)).astimezone(UTC)
    answer = post(client, "/api/purchases/ord-1/delivered", {"delivered_at": corrected.isoformat()})
    moved = answer.json()["post_delivery_checkin"]
    assert moved["id"] == first["id"]
    assert datetime.fromisoformat(moved["due_at"]) == corrected + timedelta(days=7)
    assert count(session, CheckIn) == 1
    saved = stored(session, Purchase, "ord-1")
    assert saved.next_service_at == corrected + timedelta(days=182)  # as the CSV import seeds it


def test_a_delivery_long_ago_plans_no_survey(
    client: TestClient, session: Session, jan: dict[str, Any]
) -> None:
    purchase(client, "ord-1")
    long_ago = (utcnow() - timedelta(days=120)).isoformat()
    answer = post(client, "/api/purchases/ord-1/delivered", {"delivered_at": long_ago})
    assert answer.status_code == 200, answer.text
    assert answer.json()["post_delivery_checkin"] is None
    assert count(session, CheckIn) == 0


def test_delivered_for_an_unknown_purchase_is_404_and_a_bad_time_is_422(
    client: TestClient, session: Session, jan: dict[str, Any]
) -> None:
    answer = post(client, "/api/purchases/ord-nobody/delivered")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "No purchase 'ord-nobody'."}
    purchase(client, "ord-1")
    answer = post(client, "/api/purchases/ord-1/delivered", {"delivered_at": "tuesday"})
    [(loc, message)] = problems(answer)
    assert loc == ("body", "delivered_at") and "is not an ISO 8601 time" in message
    assert stored(session, Purchase, "ord-1").delivered_at is None
    assert count(session, CheckIn) == 0


# Consent -----------------------------------------------------------------------------------


def test_an_opt_out_from_another_system_stops_the_survey_and_is_recorded_with_its_source(
    client: TestClient,
    db: sessionmaker[Session],
    session: Session,
    jan: dict[str, Any],
    console: ConsoleChannel,
) -> None:
    ewa = {
        "external_id": "cust-ewa",
        "name": "Ewa Nowak",
        "phone": "+48601234502",
        "timezone": "UTC",
    }
    post(client, "/api/customers", ewa)
    for customer, order in (("cust-jan", "ord-1"), ("cust-ewa", "ord-2")):
        purchase(client, order, customer_external_id=customer, category="car")
        post(client, f"/api/purchases/{order}/delivered")

    answer = post(
        client, "/api/customers/cust-jan/opt-out", {"system": "shop", "note": "unticked in account"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["opted_out"] is True
    consent = client.get("/api/customers/cust-jan/consent", headers=AUTH).json()
    assert [(e["action"], e["source"], e["detail"]) for e in consent] == [
        ("opt_out", "api", "shop: unticked in account")
    ]
    # Again: nothing changes and nothing more is recorded.
    assert post(client, "/api/customers/cust-jan/opt-out").status_code == 200
    assert count(session, ConsentEvent) == 1

    noon = (utcnow() + timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)
    tick(db, noon, console_only(console), SETTINGS)
    assert console.to("+48601234567") == []  # Jan opted out: not even a confirmation
    assert len(console.to("+48601234502")) == 1  # Ewa, the same day, is asked
    jan_checkin = session.scalars(
        select(CheckIn).join(Customer).where(Customer.external_id == "cust-jan")
    ).one()
    assert (jan_checkin.status, jan_checkin.reason) == ("suppressed", "customer opted out")


def test_an_opt_in_lets_surveys_start_again_and_changes_nothing_for_someone_opted_in(
    client: TestClient, session: Session, jan: dict[str, Any]
) -> None:
    answer = post(client, "/api/customers/cust-jan/opt-in", {"system": "crm"})
    assert answer.status_code == 200 and answer.json()["opted_out"] is False
    assert count(session, ConsentEvent) == 0
    post(client, "/api/customers/cust-jan/opt-out")
    answer = post(
        client, "/api/customers/cust-jan/opt-in", {"system": "crm", "note": "asked by phone"}
    )
    assert answer.json()["opted_out"] is False
    assert stored(session, Customer, "cust-jan").opted_out_at is None
    events = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
    assert [(e.action, e.source, e.detail) for e in events] == [
        ("opt_out", "api", ""),
        ("opt_in", "api", "crm: asked by phone"),
    ]


@pytest.mark.parametrize("action", ["opt-out", "opt-in"])
def test_consent_for_an_unknown_customer_is_404(client: TestClient, action: str) -> None:
    answer = post(client, f"/api/customers/nobody/{action}")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "No customer 'nobody'."}


# The document ------------------------------------------------------------------------------


WRITES = [
    ("/api/reps", "RepIn"),
    ("/api/customers", "CustomerIn"),
    ("/api/purchases", "PurchaseIn"),
]


@pytest.mark.parametrize(("path", "model"), WRITES)
def test_every_write_field_is_described_with_an_example(
    client: TestClient, path: str, model: str
) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"][path]["post"]
    assert {"200", "201", "404", "422"} <= set(operation["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    schema = document["components"]["schemas"][model]
    assert schema["examples"]
    for name, field in schema["properties"].items():
        assert field.get("description"), (model, name)
        assert field.get("examples"), (model, name)


def test_every_write_endpoint_is_in_the_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/reps:batch",
        "/api/customers:batch",
        "/api/purchases:batch",
        "/api/purchases/{external_id}/delivered",
        "/api/customers/{external_id}/opt-out",
        "/api/customers/{external_id}/opt-in",
    ):
        assert paths[path]["post"]["description"], path


@pytest.mark.parametrize(
    "path",
    [
        "/api/purchases/a%00b/delivered",
        "/api/customers/a%00b/opt-out",
        "/api/customers/a%00b/opt-in",
    ],
)
def test_an_id_with_a_nul_character_is_unknown_not_an_error(client: TestClient, path: str) -> None:
    # PostgreSQL refuses NUL in text outright; no stored id can hold one.
    assert post(client, path).status_code == 404
    assert client.get("/api/customers/a%00b", headers=AUTH).status_code == 404


def test_a_nul_character_in_a_field_is_named(client: TestClient, session: Session) -> None:
    body = {"external_id": "c-1", "name": "Ewa\x00", "phone": "+48601234501"}
    answer = post(client, "/api/customers", body)
    assert problems(answer) == [(("body", "name"), "contains a NUL character")]
    assert count(session, Customer) == 0
