"""The JSON API against its own OpenAPI document, with schemathesis generating the requests.

For every operation in `/openapi.json`, the write API's POSTs included,
schemathesis generates requests from the parameters' schemas (customer and
purchase ids sometimes swapped for seeded ones, so the 200 paths are walked as
well as the 404s), sends them to the real ASGI app with
the bearer token through the document's own security scheme, and checks that
nothing answers 5xx, that every status code, header and body is what the
document declares, that schema-valid requests are accepted and invalid ones
(a bad parameter, no token) refused.

SQLite only: this module checks the HTTP layer against its schema; the SQL
underneath each endpoint runs on both databases in tests/test_api.py, and a
second pass of ~25 examples per operation on PostgreSQL would add time, not
coverage.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from clock import parse_bound, window_end, window_start
from models import CheckIn, Customer, Escalation, Message, Purchase, Rep, Response
from models.db import make_engine
from settings import Settings
from web.app import create_app

TOKEN = "schema-token"
CUSTOMERS = ("cust-en", "cust-pl", "cust-th")
PURCHASES = ("ord-en", "ord-pl")
START = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def seed(session: Session) -> None:
    """Three customers with messages, check-ins in several states, answers and escalations."""
    manager = Rep(external_id="mgr-1", name="Marek Nowak", phone="+48600000001", role="manager")
    rep = Rep(external_id="rep-1", name="Anna Kowalska", phone="+48600000002", manager=manager)
    session.add_all([manager, rep])
    for index, (external_id, language) in enumerate(
        zip(CUSTOMERS, ("en", "pl", "th"), strict=True)
    ):
        customer = Customer(
            external_id=external_id,
            name=f"Customer {index}",
            phone=f"+4860123456{index}",
            language=language,
            timezone="Europe/Warsaw",
            channel="sms",
            rep=rep if index else None,
            tags=["vip"] if index else [],
            telegram_chat_id=7000 + index if index == 2 else None,
            opted_out_at=START if index == 1 else None,
        )
        session.add(customer)
        session.flush()
        _history(session, customer, index)
        if index < len(PURCHASES):
            category = ("car", "furniture")[index]
            session.add(
                Purchase(
                    external_id=PURCHASES[index],
                    customer=customer,
                    product="Sofa",
                    category=category,
                )
            )


def _history(session: Session, customer: Customer, index: int) -> None:
    when = START + timedelta(days=index)
    for status in ("answered", "scheduled", "suppressed", "expired", "failed"):
        checkin = CheckIn(
            customer_id=customer.id,
            kind="post_delivery" if status == "answered" else "periodic",
            dedupe_key=f"{customer.external_id}-{status}",
            due_at=when,
            status=status,
            sent_at=when if status in ("answered", "expired") else None,
            reason="inside the 14-day survey window" if status == "suppressed" else None,
            channel="sms",
        )
        session.add(checkin)
        session.flush()
        if status != "answered":
            continue
        score = (3, 8, 10)[index]
        response = Response(
            checkin_id=checkin.id,
            customer_id=customer.id,
            score=score,
            category=("detractor", "passive", "promoter")[index],
            comment="late" if score <= 6 else "",
            channel="sms",
            received_at=when + timedelta(hours=1),
        )
        session.add(response)
        session.flush()
        session.add(
            Message(
                customer_id=customer.id,
                direction="in",
                channel="sms",
                body=f"{score} late",
                status="received",
                purpose="reply",
                created_at=when + timedelta(hours=1),
            )
        )
        if score <= 6:
            session.add(
                Escalation(
                    kind="detractor",
                    response_id=response.id,
                    customer_id=customer.id,
                    rep_id=customer.rep_id,
                    sla_due_at=when + timedelta(hours=3),
                    created_at=when + timedelta(hours=1),
                )
            )
    session.flush()


# Schemathesis builds its tests at collection time, from an app that exists by then
# (its lazy `from_fixture` loader fails under pytest 9); the fixture below binds that
# app's session factory to a seeded database.
FACTORY: sessionmaker[Session] = sessionmaker(expire_on_commit=False)
APP = create_app(FACTORY, Settings(api_token=TOKEN, telegram_bot_username="acme_care_bot"))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's test client prefers httpx2 (see test_api.py)
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json",
        APP,
        # Through the document's own security scheme, so schemathesis also tries requests without it.
        config=schemathesis.Config.from_dict(
            {"auth": {"openapi": {"bearerAuth": {"bearer": TOKEN}}}}
        ),
    )


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    path = context.operation.path if context.operation else ""
    known = PURCHASES if path.startswith("/api/purchases/") else CUSTOMERS
    return _sometimes_known(path_parameters, "external_id", known)


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    return _sometimes_known(query, "customer", CUSTOMERS)


def _sometimes_known(
    values: dict[str, Any] | None, name: str, known: tuple[str, ...]
) -> st.SearchStrategy[Any]:
    """The generated values, or the same with `name` set to one that exists."""
    if not values or name not in values:
        return st.just(values)
    return st.sampled_from((values[name], *known)).map(lambda value: {**values, name: value})


@pytest.fixture(scope="module")
def seeded_database(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[None]:
    """APP on a SQLite database of its own, seeded once for the module."""
    path = tmp_path_factory.mktemp("schema") / "aftercare.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    FACTORY.configure(bind=engine)
    with FACTORY.begin() as session:
        seed(session)
    yield
    FACTORY.configure(bind=None)
    engine.dispose()


def ends_before_it_starts(query: dict[str, Any] | None) -> bool:
    """A window with since at or after until: the document cannot say "since before until"."""
    since, until = (query or {}).get("since"), (query or {}).get("until")
    if not (isinstance(since, str) and isinstance(until, str) and since and until):
        return False
    try:
        start, end = window_start(parse_bound(since)), window_end(parse_bound(until))
    except ValueError:
        return False
    return start is not None and end is not None and start >= end


@schema.parametrize()
@settings(max_examples=25, deadline=None)
def test_the_api_answers_as_its_openapi_document_says(
    case: schemathesis.Case, seeded_database: None
) -> None:
    excluded: list[Any] = []
    if ends_before_it_starts(case.query):
        # Refused with 422 on purpose (tests/test_api.py), though each bound alone is valid.
        excluded.append(schemathesis.checks.positive_data_acceptance)
    writes = case.method == "POST"
    if writes:
        # A write's fields are checked by the CSV import's rules, which a JSON schema cannot
        # state (a valid phone number, an IANA zone, a phone no other customer has, a key
        # reused for another body): such a request is refused with 422 naming the field.
        excluded.append(schemathesis.checks.positive_data_acceptance)
    response = case.call_and_validate(excluded_checks=excluded)
    assert response.status_code < 500
    if writes and response.status_code == 422:
        problems = response.json()["detail"]
        assert problems and all(problem["loc"] and problem["msg"] for problem in problems)
