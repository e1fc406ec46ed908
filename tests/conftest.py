"""Shared fixtures: a fresh database per test (SQLite and PostgreSQL), settings, a small cast.

Every test that takes `db` (or something built on it) runs twice: once on a
SQLite file of its own, once on PostgreSQL in a schema of its own, truncated
between tests. Without PostgreSQL those runs skip with the reason; in CI
(`CI=true`) a missing PostgreSQL fails them instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

import settings as settings_module
from accounts import passwords
from messaging.channels import ConsoleChannel
from models import Base, Customer, Rep
from models.db import make_engine, migrate, session_factory

if TYPE_CHECKING:
    from tests.conversation_support import Phone

POSTGRES_URL = os.environ.get(
    "AFTERCARE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"

# Tests must never reach the real providers, whatever the developer's shell holds.
for _name in list(os.environ):
    if (
        _name.startswith(("TWILIO_", "TELEGRAM_", "AFTERCARE_"))
        and _name != "AFTERCARE_TEST_POSTGRES_URL"
    ):
        del os.environ[_name]


def _postgres_schema_url(worker: str) -> tuple[str, str]:
    # One schema per pytest process: parallel runs on one server never collide.
    schema = f"aftercare_test_{worker}_{os.getpid()}"
    joiner = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{joiner}options=-csearch_path%3D{schema}", schema


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    url, schema = _postgres_schema_url(os.environ.get("PYTEST_XDIST_WORKER", "main"))
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no PostgreSQL"
        admin.dispose()
        reason = f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.__class__.__name__}"
        if IN_CI:
            pytest.fail(f"{reason} (CI requires it)")
        pytest.skip(reason)
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def truncate_all(engine: Engine) -> None:
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Engine]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "aftercare.sqlite3"
        shutil.copy(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
    else:
        engine = request.getfixturevalue("postgres_engine")
        truncate_all(engine)
        yield engine


@pytest.fixture
def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def db(engine: Engine) -> sessionmaker[Session]:
    """A session factory on a fresh database."""
    return session_factory(engine)


@pytest.fixture
def session(db: sessionmaker[Session]) -> Iterator[Session]:
    with db() as session:
        yield session


# argon2id with the library's own test profile (8 KiB, one pass) inside this process: the
# production cost (64 MiB, three passes) is ~0.1 s per hash and per check, and nearly every
# web test makes one of each, a fifth of the suite's time. Tests that are about that cost
# take `real_password_hashing`; processes the tests start (`bot.py run`, the browser's
# server) hash as in production, and test_passwords.py proves production's parameters.
QUICK_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "hasher", QUICK_HASHER)
        yield


@pytest.fixture
def real_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[PasswordHasher]:
    """Production's hasher (the library's defaults) for this test, where its cost matters."""
    real = PasswordHasher()
    monkeypatch.setattr(passwords, "hasher", real)
    passwords._dummy_hash.cache_clear()
    yield real
    passwords._dummy_hash.cache_clear()


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts from the documented defaults, in a working directory of its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    settings_module.reset_settings()
    yield
    settings_module.reset_settings()


def at(text_value: str) -> datetime:
    """`at("2026-03-01 10:00")`: an aware UTC datetime, for readable tests."""
    return datetime.fromisoformat(text_value).replace(tzinfo=UTC)


@pytest.fixture
def cast(session: Session) -> dict[str, object]:
    """A rep, her manager, and a customer in each language."""
    manager = Rep(external_id="mgr-1", name="Marek Nowak", phone="+48600000001", role="manager")
    rep = Rep(external_id="rep-1", name="Anna Kowalska", phone="+48600000002", manager=manager)
    session.add_all([manager, rep])
    people = {
        "en": ("cust-en", "John Smith", "+14155550101", "America/New_York"),
        "pl": ("cust-pl", "Agnieszka Wiśniewska", "+48601234567", "Europe/Warsaw"),
        "uk": ("cust-uk", "Олена Шевченко", "+380501234567", "Europe/Kyiv"),
        "ru": ("cust-ru", "Дмитрий Иванов", "+79161234567", "Europe/Moscow"),
        "th": ("cust-th", "สมชาย ใจดี", "+66812345678", "Asia/Bangkok"),
    }
    customers = {}
    for language, (external_id, name, phone, zone) in people.items():
        customer = Customer(
            external_id=external_id,
            name=name,
            phone=phone,
            language=language,
            timezone=zone,
            channel="sms",
            rep=rep,
        )
        session.add(customer)
        customers[language] = customer
    session.commit()
    return {"rep": rep, "manager": manager, **customers}


@pytest.fixture
def console() -> ConsoleChannel:
    """A console channel that records and prints nothing."""
    return ConsoleChannel(stream=None)


@pytest.fixture
def phone(db: sessionmaker[Session], console: ConsoleChannel) -> Phone:
    """Customers writing to the bot through the one inbound door; see tests/conversation_support.py."""
    from tests.conversation_support import Phone

    return Phone(db, console)
