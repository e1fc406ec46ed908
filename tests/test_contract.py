"""DESIGN.md's command-line contract, checked as an outside acceptance check would.

Each test runs the real `python bot.py ...` in a fresh working directory with a
bare environment, and reads what it printed, its exit status and the SQLite
file it left. SQLite only: what is checked here is the process boundary
(arguments, output streams, exit codes, the default database file); the same
code on PostgreSQL is covered in-process by test_importing.py, test_nps.py and
test_tick.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import bot
from models import CheckIn, Customer, Purchase, Response
from models.db import make_engine, session_factory
from settings import Settings
from web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's test client prefers httpx2 (see test_api.py)
    from fastapi.testclient import TestClient

BOT = Path(__file__).resolve().parent.parent / "bot.py"

REPS = "external_id,name,phone,role,manager_external_id\nmgr-1,Marek,+48600000001,manager,\nrep-1,Anna,+48600000002,rep,mgr-1\n"
CUSTOMERS = (
    "external_id,name,phone,language,timezone,channel,rep_external_id,tags\n"
    "c-1,Jan Kowalski,+48601234567,pl,Europe/Warsaw,sms,rep-1,vip;car\n"
    "c-2,Somchai,+66812345678,th,Asia/Bangkok,sms,,\n"
)


def run_bot(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python bot.py ARGS` in `cwd`, with nothing from the developer's shell."""
    return subprocess.run(
        [sys.executable, str(BOT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **env},
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def database(workdir: Path) -> Iterator[tuple[dict[str, str], Engine]]:
    """AFTERCARE_DATABASE_URL for the commands, and an engine on the same file for the test."""
    url = f"sqlite:///{workdir / 'contract.sqlite3'}"
    engine = make_engine(url)
    yield {"AFTERCARE_DATABASE_URL": url}, engine
    engine.dispose()


def write(directory: Path, name: str, text: str) -> str:
    (directory / name).write_text(text, encoding="utf-8")
    return name


def customers(engine: Engine) -> dict[str, Customer]:
    with session_factory(engine)() as session:
        return {c.external_id: c for c in session.scalars(select(Customer))}


# The commands -------------------------------------------------------------------------------


def test_help_lists_every_command_and_each_has_help(workdir: Path) -> None:
    listing = run_bot(workdir, "--help")
    assert listing.returncode == 0, listing.stderr
    for name in ("demo", "run", "tick", "plan", "import", "nps", *bot.COMMANDS):
        assert f"  {name} " in listing.stdout, name
    helped = run_bot(workdir, "import", "customers", "--help")
    assert helped.returncode == 0 and "tags" in helped.stdout
    assert list(workdir.iterdir()) == []  # asking for help creates no database


def test_nps_json_is_all_that_is_printed_even_migrating_a_fresh_database_at_debug(
    workdir: Path,
) -> None:
    result = run_bot(workdir, "nps", "--json", AFTERCARE_LOG_LEVEL="DEBUG")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert document["responses"] == 0 and document["nps"] is None and document["groups"] == []
    assert (workdir / "aftercare.sqlite3").exists()  # the default database, in the cwd


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-03-01T10:00:00", "2026-03-01T10:00:00+00:00"),
        ("2026-03-01T10:00:00Z", "2026-03-01T10:00:00+00:00"),
        ("2026-03-01t10:00:00z", "2026-03-01T10:00:00+00:00"),
        ("2026-03-01T12:00:00+02:00", "2026-03-01T10:00:00+00:00"),
    ],
)
def test_plan_takes_instants_with_and_without_a_zone(workdir: Path, text: str, utc: str) -> None:
    result = run_bot(workdir, "plan", "--at", text)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"plan for a tick at {utc}")


def test_tick_takes_an_instant_in_any_zone(workdir: Path) -> None:
    result = run_bot(workdir, "tick", "--now", "2026-03-01T12:00:00+02:00")
    assert result.returncode == 0, result.stderr
    assert "2026-03-01T10:00:00+00:00" in result.stdout
    assert run_bot(workdir, "tick", "--now", "yesterday").returncode != 0


# The import ---------------------------------------------------------------------------------


def test_an_import_with_bad_rows_writes_nothing_and_names_every_line(
    workdir: Path, database: tuple[dict[str, str], Engine]
) -> None:
    env, engine = database
    assert (
        run_bot(workdir, "import", "reps", write(workdir, "reps.csv", REPS), **env).returncode == 0
    )
    first = run_bot(workdir, "import", "customers", write(workdir, "c.csv", CUSTOMERS), **env)
    assert first.returncode == 0, first.stderr
    bad = write(
        workdir,
        "bad.csv",
        "external_id,name,phone,language,channel\n"
        "c-1,Jan Renamed,+48601234567,pl,sms\n"  # fine alone: an update of c-1
        "c-3,Nowy,+48601234999,de,sms\n"  # line 3: language
        "\n"
        "c-4,Fax,+48601234998,en,fax\n"  # line 5: channel
        "c-5,Ok,+48601234997,uk,telegram\n",
    )
    result = run_bot(workdir, "import", "customers", bad, **env)
    assert result.returncode != 0
    assert "bad.csv:3: language:" in result.stderr and "bad.csv:5: channel:" in result.stderr
    stored = customers(engine)
    assert sorted(stored) == ["c-1", "c-2"] and stored["c-1"].name == "Jan Kowalski"


def test_an_import_upserts_by_external_id_in_any_column_order(
    workdir: Path, database: tuple[dict[str, str], Engine]
) -> None:
    env, engine = database
    run_bot(workdir, "import", "reps", write(workdir, "reps.csv", REPS), **env)
    run_bot(workdir, "import", "customers", write(workdir, "c.csv", CUSTOMERS), **env)
    again = write(
        workdir,
        "again.csv",
        "tags,language,external_id,name,channel,phone\n"
        " a ; b;;c ,RU,c-2,Somchai J.,telegram,\n"
        "x,en,c-3,New One,sms,+48601234990\n",
    )
    result = run_bot(workdir, "import", "customers", again, **env)
    assert result.returncode == 0, result.stderr
    assert "1 created, 1 updated" in result.stdout
    stored = customers(engine)
    assert (stored["c-2"].name, stored["c-2"].language, stored["c-2"].channel) == (
        "Somchai J.",
        "ru",
        "telegram",
    )
    assert stored["c-2"].tags == ["a", "b", "c"] and stored["c-2"].phone == "+66812345678"


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("external_id,name,colour", "colour: unknown column"),
        ("name,phone", "external_id: missing required column"),
    ],
)
def test_an_unknown_or_missing_column_is_named(
    workdir: Path, database: tuple[dict[str, str], Engine], header: str, named: str
) -> None:
    env, engine = database
    name = write(workdir, "c.csv", f"{header}\n" + ",".join(["x"] * len(header.split(","))))
    result = run_bot(workdir, "import", "customers", name, **env)
    assert result.returncode != 0
    assert f"c.csv:1: {named}" in result.stderr
    assert customers(engine) == {}


def test_purchase_times_are_iso_8601_and_empty_is_unknown(
    workdir: Path, database: tuple[dict[str, str], Engine]
) -> None:
    env, engine = database
    run_bot(workdir, "import", "reps", write(workdir, "reps.csv", REPS), **env)
    run_bot(workdir, "import", "customers", write(workdir, "c.csv", CUSTOMERS), **env)
    purchases = write(
        workdir,
        "p.csv",
        "external_id,customer_external_id,product,category,purchased_at,"
        "promised_delivery_date,delivered_at,rep_external_id\n"
        "p-1,c-1,Car,car,2026-02-01T10:00:00Z,2026-02-10,2026-02-10T12:00:00+01:00,rep-1\n"
        "p-2,c-2,Bike,,,,,\n",
    )
    result = run_bot(workdir, "import", "purchases", purchases, **env)
    assert result.returncode == 0, result.stderr
    with session_factory(engine)() as session:
        stored = {p.external_id: p for p in session.scalars(select(Purchase))}
    assert stored["p-1"].delivered_at == datetime(2026, 2, 10, 11, tzinfo=UTC)
    assert stored["p-1"].purchased_at == datetime(2026, 2, 1, 10, tzinfo=UTC)
    assert (stored["p-2"].purchased_at, stored["p-2"].delivered_at) == (None, None)
    assert stored["p-2"].promised_delivery_date is None


# The same NPS on the command line and over HTTP ---------------------------------------------


def _answers(session: Session, customer: Customer, scores: list[int], start: datetime) -> None:
    for index, score in enumerate(scores):
        when = start + timedelta(days=index)
        checkin = CheckIn(
            customer_id=customer.id,
            kind="post_delivery",
            dedupe_key=f"{customer.external_id}-{index}",
            due_at=when,
            status="answered",
            sent_at=when,
            channel="sms",
        )
        session.add(checkin)
        session.flush()
        category = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        session.add(
            Response(
                checkin_id=checkin.id,
                customer_id=customer.id,
                score=score,
                category=category,
                comment="",
                channel="sms",
                received_at=when + timedelta(hours=1),
            )
        )


def test_bot_nps_json_gives_the_numbers_of_get_api_nps(
    workdir: Path, database: tuple[dict[str, str], Engine]
) -> None:
    env, engine = database
    run_bot(workdir, "import", "reps", write(workdir, "reps.csv", REPS), **env)
    run_bot(workdir, "import", "customers", write(workdir, "c.csv", CUSTOMERS), **env)
    factory = session_factory(engine)
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    with factory.begin() as session:
        people = {c.external_id: c for c in session.scalars(select(Customer))}
        _answers(session, people["c-1"], [10, 9, 6, 8, 10, 0, 9], start)
        _answers(session, people["c-2"], [3, 7, 10], start)
    client = TestClient(create_app(factory, Settings(api_token="t")))
    for params in (
        {},
        {"since": "2026-03-02", "until": "2026-03-05", "by": "rep"},
        {"since": "2026-03-01T12:00:00Z", "by": "language"},
    ):
        args = [part for name, value in params.items() for part in (f"--{name}", value)]
        result = run_bot(workdir, "nps", *args, "--json", **env)
        assert result.returncode == 0, result.stderr
        cli = json.loads(result.stdout)
        answer = client.get("/api/nps", params=params, headers={"Authorization": "Bearer t"})
        assert answer.status_code == 200, answer.text
        assert cli == answer.json(), params
        expected = 100 * (cli["promoters"] - cli["detractors"]) / cli["responses"]
        assert cli["nps"] == pytest.approx(expected, abs=0.05)
        assert cli["responses"] == cli["promoters"] + cli["passives"] + cli["detractors"]
    assert cli["groups"] and all(group["responses"] for group in cli["groups"])
