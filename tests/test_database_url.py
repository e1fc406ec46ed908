"""A bad or unreachable AFTERCARE_DATABASE_URL: one line naming it and the fix, exit 2, any command.

Aftercare ships psycopg 3 and Python's sqlite3: `postgresql://` and `postgresql+psycopg://`
work, and so do `sqlite:///PATH` and `sqlite+pysqlite:///PATH`. Anything else (another
database, another driver, Heroku's `postgres://`, an in-memory SQLite, garbage) is refused
before connecting, with what to write instead; a server that does not answer is refused
when connecting. Never a traceback, never the password.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import bot
from cli.problems import unusable_database_url
from settings import reset_settings

BOT = Path(bot.__file__).resolve()
PASSWORD = "correct horse battery staple\n"

# Every command that opens the database, with the arguments it needs to get that far.
COMMANDS = {
    "run": ["run", "--port", "8765"],
    "tick": ["tick"],
    "plan": ["plan"],
    "nps": ["nps"],
    "mix": ["mix"],
    "escalations": ["escalations"],
    "migrate": ["migrate"],
    "import reps": ["import", "reps", "people.csv"],
    "import customers": ["import", "customers", "people.csv"],
    "import purchases": ["import", "purchases", "people.csv"],
    "user add": ["user", "add", "anna", "--role", "admin", "--password-stdin"],
    "user list": ["user", "list"],
    "user disable": ["user", "disable", "anna"],
    "user set-password": ["user", "set-password", "anna", "--password-stdin"],
}

# A bad URL, and what its one line must say to write instead.
BAD_URLS = {
    "mysql": ("mysql://care:s3cret@db.example/care", "postgresql+psycopg://"),
    "mssql": ("mssql+pyodbc://care:s3cret@db.example/care", "postgresql+psycopg://"),
    "oracle": ("oracle://care:s3cret@db.example/care", "postgresql+psycopg://"),
    "psycopg2": ("postgresql+psycopg2://care:s3cret@127.0.0.1/care", "postgresql+psycopg://"),
    "asyncpg": ("postgresql+asyncpg://care:s3cret@127.0.0.1/care", "postgresql+psycopg://"),
    "postgres://": ("postgres://care:s3cret@127.0.0.1/care", "postgresql+psycopg://"),
    "sqlite://": ("sqlite://", "sqlite:///PATH"),
    "sqlite:///": ("sqlite:///", "sqlite:///PATH"),
    "sqlite memory": ("sqlite:///:memory:", "sqlite:///PATH"),
    "garbage": ("care:s3cret at db.example", "sqlite:///PATH"),
    "no scheme": ("aftercare.sqlite3", "sqlite:///PATH"),
    "unreachable": (
        "postgresql+psycopg://care:s3cret@127.0.0.1:1/care",
        "check that the database server is running",
    ),
}


def _says_one_line(text: str, exit_code: int, fix: str) -> None:
    assert exit_code == 2, text
    assert "Traceback" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "AFTERCARE_DATABASE_URL" in lines[0] and fix in lines[0], lines[0]
    assert "s3cret" not in text


@pytest.mark.parametrize("url", [url for url, _ in BAD_URLS.values()], ids=list(BAD_URLS))
def test_the_check_refuses_what_cannot_work(url: str) -> None:
    problem = unusable_database_url(url)
    if url.startswith("postgresql+psycopg://"):
        assert problem is None  # the right shape: connecting finds out it is unreachable
    else:
        assert problem is not None and "AFTERCARE_DATABASE_URL" in problem
        assert "s3cret" not in problem


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///aftercare.sqlite3",
        "sqlite:////var/lib/aftercare/aftercare.sqlite3",
        "sqlite+pysqlite:///aftercare.sqlite3",
        "postgresql://care:s3cret@db.example/care",
        "postgresql+psycopg://care:s3cret@db.example:5432/care",
        "postgresql:///care",  # the local socket
    ],
)
def test_the_check_accepts_what_aftercare_ships_drivers_for(url: str) -> None:
    assert unusable_database_url(url) is None


def test_plain_postgresql_and_pysqlite_urls_really_work(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # psycopg 3 is SQLAlchemy 2.1's default for postgresql://, pysqlite its default for sqlite.
    url = database_url.replace("postgresql+psycopg://", "postgresql://").replace(
        "sqlite:///", "sqlite+pysqlite:///"
    )
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", url)
    reset_settings()
    result = CliRunner().invoke(bot.main, ["nps", "--json"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"  # the working directory (conftest's clean_settings)
    path.write_text("external_id,name\nr1,Anna\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("case", list(BAD_URLS))
@pytest.mark.parametrize("command", [name for name in COMMANDS if name != "run"])
def test_every_command_says_one_line_and_exits_2(
    command: str, case: str, csv_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, fix = BAD_URLS[case]
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", url)
    reset_settings()
    result = CliRunner().invoke(bot.main, COMMANDS[command], input=PASSWORD)
    _says_one_line(result.output, result.exit_code, fix)


# Through `python bot.py` itself: each bad URL once and each command once, and `run`
# (which, let through, would serve until the timeout) with every bad URL.
_SPREAD = max(len(COMMANDS), len(BAD_URLS))
PAIRS = list(
    dict.fromkeys(
        [
            *zip(
                itertools.islice(itertools.cycle(COMMANDS), _SPREAD),
                itertools.islice(itertools.cycle(BAD_URLS), _SPREAD),
                strict=True,
            ),
            *(("run", case) for case in BAD_URLS),
        ]
    )
)


@pytest.mark.parametrize(("command", "case"), PAIRS, ids=[f"{c}-{u}" for c, u in PAIRS])
def test_bot_py_says_one_line_and_exits_2(command: str, case: str, csv_file: Path) -> None:
    url, fix = BAD_URLS[case]
    environment = {**os.environ, "AFTERCARE_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, str(BOT), *COMMANDS[command]],
        cwd=csv_file.parent,
        env=environment,
        input=PASSWORD,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    _says_one_line(done.stdout + done.stderr, done.returncode, fix)
