"""CSV upload in the admin UI: a dry-run preview first, then the import, with the CLI's rules."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Customer, Purchase, Rep
from tests.test_admin import TestClient, csrf_of, log_in, make_app
from web.admin.imports import MAX_CARRIED, MAX_FILE_BYTES, carry, uncarry

DATA = Path(__file__).parent / "data" / "import"
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
REPS = (
    "external_id,name,phone,telegram_chat_id,role,manager_external_id\n"
    "rep-2,Zofia Zielińska,+48 600 000 102,,rep,mgr-2\n"
    "rep-3,Олена Шевченко,,5550001,,mgr-2\n"
    "mgr-2,Marek Wójcik,+48600000103,,manager,\n"
).encode()
CUSTOMERS = (
    "external_id,name,phone,telegram_chat_id,language,timezone,channel,rep_external_id,tags\n"
)


@pytest.fixture
def app(db: sessionmaker[Session]) -> FastAPI:
    return make_app(db)[0]


@pytest.fixture
def client(app: FastAPI, cast: dict[str, object]) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client).status_code == 303
        yield client


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def upload(client: TestClient, kind: str, data: bytes, name: str = "file.csv") -> Any:
    csrf = csrf_of(client.get("/admin/import").text)
    return client.post(
        "/admin/import/preview",
        data={"kind": kind, "csrf_token": csrf},
        files={"file": (name, data, "text/csv")},
    )


def confirm_form(preview_html: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in HIDDEN.findall(preview_html)}


def confirm(client: TestClient, preview_html: str) -> Any:
    form = confirm_form(preview_html)
    # Sent as the browser sends it: the form is multipart, like the upload.
    return client.post("/admin/import/confirm", files={k: (None, v) for k, v in form.items()})


def test_the_import_page_is_in_the_nav_and_lists_the_columns(client: TestClient) -> None:
    page = client.get("/admin/import").text
    assert 'href="/admin/import"' in page and 'href="/admin/responses"' in page
    assert "customer_external_id" in page and 'enctype="multipart/form-data"' in page


def test_the_preview_shows_the_counts_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    before = count(session, Rep)
    answer = upload(client, "reps", REPS, "reps.csv")
    assert answer.status_code == 200
    text = answer.text
    assert "create <strong>3</strong> reps" in text
    assert "update <strong>0</strong>" in text
    assert "Nothing has been written yet" in text
    assert "Zofia Zielińska" in text  # the first rows, as read
    assert "+48 *** *** 102" in text and "600 000 102" not in text  # phones masked
    assert "55 *** *** 001" in text and "5550001" not in text
    assert count(session, Rep) == before


def test_confirming_imports_the_file_the_preview_checked(
    client: TestClient, session: Session
) -> None:
    preview = upload(client, "reps", REPS)
    done = confirm(client, preview.text)
    assert done.status_code == 200
    assert "3 created, 0 updated, 0 unchanged" in done.text
    session.expire_all()
    assert session.scalars(select(Rep.name).where(Rep.external_id == "rep-2")).one() == (
        "Zofia Zielińska"
    )
    again = confirm(client, preview.text)  # a reload of the result page: an upsert, harmless
    assert "0 created, 0 updated, 3 unchanged" in again.text


def test_bad_rows_are_listed_by_line_and_nothing_is_written(
    client: TestClient, session: Session
) -> None:
    data = (
        CUSTOMERS
        + "c-1,Jan Kowalski,+48601234501,,pl,Europe/Warsaw,sms,rep-1,\n"
        + "c-2,Ewa Nowak,601 234 502,,pl,,sms,rep-1,\n"
        + "c-3,Olga,+48601234503,,de,,sms,rep-1,\n"
    ).encode()
    before = count(session, Customer)
    answer = upload(client, "customers", data, "klienci.csv")
    assert answer.status_code == 422
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>(?:<code>)?([^<]*)', answer.text)
    assert rows == [("3", "phone"), ("4", "language")]
    assert "is not in international format" in answer.text
    assert "2 errors in 2 rows; nothing was imported" in answer.text
    assert "klienci.csv" in answer.text
    assert count(session, Customer) == before


def test_a_wrong_column_name_is_named(client: TestClient) -> None:
    data = b"external_id,nmae,phone\nr-9,Anna,+48600000009\n"
    answer = upload(client, "reps", data)
    assert answer.status_code == 422
    assert "<code>nmae</code>" in answer.text and "unknown column" in answer.text
    assert "<code>name</code>" in answer.text and "missing required column" in answer.text


def test_a_semicolon_excel_file_imports_through_the_browser(
    client: TestClient, session: Session
) -> None:
    reps = upload(client, "reps", (DATA / "excel" / "reps.csv").read_bytes())
    assert confirm(client, reps.text).status_code == 200
    preview = upload(client, "customers", (DATA / "excel" / "customers-pl.csv").read_bytes())
    assert preview.status_code == 200
    assert "separated by semicolons" in preview.text
    assert "Wiśniewska, Agnieszka" in preview.text
    done = confirm(client, preview.text)
    assert "3 created" in done.text
    session.expire_all()
    names = set(session.scalars(select(Customer.name)))
    assert {"Łukasz Żółkiewski", 'Grzegorz "Grześ" Brzęczyszczykiewicz'} <= names
    # Found by a search in the case it was written, on SQLite too (its lower() is ASCII-only).
    found = client.get("/admin/customers", params={"q": "Żółkiewski"}).text
    assert "/admin/customers/pl-002" in found


def test_purchases_with_warnings_show_them_in_the_preview(
    client: TestClient, session: Session
) -> None:
    data = (
        "external_id,customer_external_id,product,delivered_at\n"
        "p-1,cust-pl,Škoda Octavia,2099-01-01T10:00:00+01:00\n"
    ).encode()
    preview = upload(client, "purchases", data)
    assert preview.status_code == 200
    assert "1 warning" in preview.text and "future" in preview.text
    assert count(session, Purchase) == 0
    assert "1 created" in confirm(client, preview.text).text
    assert count(session, Purchase) == 1


def test_a_tampered_or_missing_carried_file_is_refused(
    client: TestClient, session: Session
) -> None:
    preview = upload(client, "reps", REPS)
    form = confirm_form(preview.text)
    # The last is as long as a carried file may be: the form parser must let it through.
    longest = "A" * (MAX_CARRIED - MAX_CARRIED % 4)
    for content in ("", "not base64!", carry(b"x")[:-4] + "AAAA", longest):  # type: ignore[index]
        answer = client.post(
            "/admin/import/confirm",
            files={**{k: (None, v) for k, v in form.items()}, "content": (None, content)},
        )
        assert answer.status_code == 422
        assert "Upload the file again" in answer.text
    assert count(session, Rep) == 2  # the cast's


def test_the_carried_file_round_trips_and_a_bomb_is_refused() -> None:
    data = "external_id;name\r\nr-1;Bożena\r\n".encode()
    assert uncarry(carry(data) or "") == data
    bomb = carry(b"\0" * (MAX_FILE_BYTES + 10))
    assert bomb is not None  # zeros compress to almost nothing
    with pytest.raises(ValueError):
        uncarry(bomb)


def test_a_file_too_big_to_carry_back_is_not_offered_for_confirmation() -> None:
    assert carry(os.urandom(1024 * 1024)) is None  # incompressible: past a form field's 1 MB


def test_a_file_over_the_upload_limit_is_refused_and_says_so(
    client: TestClient, session: Session
) -> None:
    answer = upload(client, "reps", b"external_id,name\n" + b"r,x\n" * (MAX_FILE_BYTES // 4))
    assert answer.status_code == 413
    assert "larger than 4 MB" in answer.text and "bot.py import reps" in answer.text
    assert count(session, Rep) == 2


def test_an_unknown_kind_and_a_missing_csrf_token_are_refused(
    client: TestClient, session: Session
) -> None:
    assert upload(client, "orders", b"external_id\n").status_code == 422
    answer = client.post(
        "/admin/import/preview",
        data={"kind": "reps"},
        files={"file": ("reps.csv", REPS, "text/csv")},
    )
    assert answer.status_code == 403
    assert count(session, Rep) == 2


def test_the_upload_needs_a_login(app: FastAPI) -> None:
    with TestClient(app, follow_redirects=False) as anonymous:
        assert anonymous.get("/admin/import").status_code == 303
        answer = anonymous.post(
            "/admin/import/preview", files={"file": ("r.csv", b"external_id,name\n", "text/csv")}
        )
        assert answer.status_code == 303
