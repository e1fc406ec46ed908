"""Import files as spreadsheets save them: `;` from Polish and Ukrainian Excel, tab, `|`, a BOM.

The files in tests/data/import/excel/ are what Excel's "CSV UTF-8" writes in a
Polish or Ukrainian locale: a UTF-8 BOM, semicolons, CRLF line ends, quotes
only around cells that hold a semicolon or a quote, and decimal commas.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import settings
from cli.importing import import_group
from importing import ImportErrors, import_csv
from importing.csv_reader import delimiter_of
from models import Customer, Purchase, Rep
from tests.conftest import at

EXCEL = Path(__file__).parent / "data" / "import" / "excel"
NOW = at("2026-03-01 12:00")
REPS = "external_id,name,phone,telegram_chat_id,role,manager_external_id"


def run(session: Session, kind: str, source: object) -> object:
    return import_csv(session, kind, source, now=NOW, default_tz="UTC")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("external_id,name\nr-1,Anna\n", ","),
        ("external_id;name\nr-1;Anna\n", ";"),
        ("external_id\tname\nr-1\tAnna\n", "\t"),
        ("external_id|name\nr-1|Anna\n", "|"),
        ("external_id;name\n", ";"),  # a header alone
        ("external_id\n", ","),  # nothing to sniff: the default
        ("", ","),
        # Decimal commas and commas in names do not outvote the semicolons.
        ('external_id;name\nr-1;"Kowalska, Anna"\nr-2;"4,5 l, 2,5 l"\n', ";"),
        # A comma file whose tags hold semicolons stays a comma file.
        ("external_id,name,tags\nc-1,Jan,vip;car;fleet\nc-2,Ewa,a;b;c\n", ","),
        # The sniffer may see a rhythm in the data; the header decides when it disagrees.
        ("external_id,name\nr-1,A|B|C\nr-2,D|E|F\n", ","),
    ],
)
def test_the_delimiter_is_sniffed_from_the_four_candidates(text: str, expected: str) -> None:
    assert delimiter_of(text) == expected


def test_a_long_file_is_sniffed_from_its_first_lines() -> None:
    rows = "".join(f'r-{n};"Kowalska, Anna {n}";+4860{n:07d}\r\n' for n in range(5000))
    text = "external_id;name;phone\r\n" + rows
    assert len(text) > 64 * 1024  # past the sample the sniffer reads
    assert delimiter_of(text) == ";"


def test_a_polish_excel_file_imports_with_its_commas_in_names_and_quotes(
    session: Session,
) -> None:
    run(session, "reps", EXCEL / "reps.csv")
    report = run(session, "customers", EXCEL / "customers-pl.csv")
    assert (report.created, report.updated) == (3, 0)  # type: ignore[attr-defined]
    people = {c.external_id: c for c in session.scalars(select(Customer))}
    assert people["pl-001"].name == "Wiśniewska, Agnieszka"
    assert people["pl-001"].tags == ["vip", "car"]
    assert people["pl-001"].phone == "+48601555101"
    assert people["pl-002"].name == "Łukasz Żółkiewski"
    assert people["pl-003"].name == 'Grzegorz "Grześ" Brzęczyszczykiewicz'


def test_decimal_commas_in_quoted_and_bare_cells_stay_in_the_product(session: Session) -> None:
    run(session, "reps", EXCEL / "reps.csv")
    run(session, "customers", EXCEL / "customers-pl.csv")
    run(session, "purchases", EXCEL / "purchases-pl.csv")
    products = {p.external_id: p.product for p in session.scalars(select(Purchase))}
    assert products == {
        "z-1001": "Olej silnikowy 5W-30, 4,5 l",
        "z-1002": "Škoda Octavia 1,5 TSI",
        "z-1003": "Opony zimowe 205/55 R16 (4 szt., 1 299,99 zł)",
    }


def test_a_ukrainian_excel_file_imports(session: Session) -> None:
    run(session, "reps", EXCEL / "reps.csv")
    run(session, "customers", EXCEL / "customers-uk.csv")
    olena = session.scalars(select(Customer).where(Customer.external_id == "ua-001")).one()
    assert (olena.name, olena.language, olena.tags) == ("Олена Бондаренко", "uk", ["стоматологія"])
    assert session.scalars(select(Rep.name).where(Rep.external_id == "rep-olena")).one() == (
        "Олена Шевченко"
    )


def test_a_semicolon_file_names_a_wrong_column_and_keeps_line_numbers(session: Session) -> None:
    header = REPS.replace(",", ";").replace("name", "nazwa")
    with pytest.raises(ImportErrors) as caught:
        run(session, "reps", io.StringIO(f"{header}\r\nr-1;Anna;;;;\r\n"))
    assert [(e.line, e.column) for e in caught.value.errors] == [(1, "nazwa"), (1, "name")]
    assert "unknown column" in caught.value.errors[0].message

    text = "external_id;name;phone\r\nr-1;Anna;+48600000002\r\nr-2;Ola;0601\r\n"
    with pytest.raises(ImportErrors) as caught:
        run(session, "reps", io.BytesIO(b"\xef\xbb\xbf" + text.encode()))
    [error] = caught.value.errors
    assert (error.line, error.column) == (3, "phone")


@pytest.mark.parametrize("delimiter", ["\t", "|"])
def test_tab_and_pipe_files_import(session: Session, delimiter: str) -> None:
    text = f"{REPS}\nr-1,Anna Kowalska,+48600000002,,rep,\n".replace(",", delimiter)
    run(session, "reps", io.StringIO(text))
    assert session.scalars(select(Rep.phone)).one() == "+48600000002"


@pytest.mark.parametrize(
    ("text", "encoding", "hint"),
    [
        ("external_id;name\r\nr-1;Bożena Wiśniewska\r\n", "cp1250", "Windows-1250"),
        ("external_id;name\r\nr-1;Олена Шевченко\r\n", "cp1251", "Windows-1251"),
    ],
)
def test_a_file_saved_in_an_excel_code_page_is_refused_with_a_hint(
    session: Session, text: str, encoding: str, hint: str
) -> None:
    with pytest.raises(ImportErrors) as caught:
        run(session, "reps", io.BytesIO(text.encode(encoding)))
    [error] = caught.value.errors
    assert error.line == 2
    assert error.message.startswith("not UTF-8 text, probably " + hint)
    assert 'save the file as "CSV UTF-8"' in error.message


@pytest.fixture
def bot(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Callable[..., Result]:
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", database_url)
    settings.reset_settings()
    runner = CliRunner()
    return lambda *args: runner.invoke(import_group, [str(arg) for arg in args])


def test_the_command_imports_the_excel_files(
    bot: Callable[..., Result], db: sessionmaker[Session]
) -> None:
    for kind, name, summary in [
        ("reps", "reps.csv", "reps: 3 created, 0 updated, 0 unchanged"),
        ("customers", "customers-pl.csv", "customers: 3 created, 0 updated, 0 unchanged"),
        ("customers", "customers-uk.csv", "customers: 2 created, 0 updated, 0 unchanged"),
        ("purchases", "purchases-pl.csv", "purchases: 3 created, 0 updated, 0 unchanged"),
    ]:
        result = bot(kind, EXCEL / name)
        assert result.exit_code == 0, result.output
        assert result.stdout == summary + "\n"
    with db() as session:
        names = set(session.scalars(select(Customer.name)))
    assert {"Łukasz Żółkiewski", "Тарас Ґудзь"} <= names
