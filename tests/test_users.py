"""Users: the `bot.py user` commands, the Users page, the audit trail, the stored session key."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from alembic import command
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

import bot
from accounts.passwords import hash_password, matches
from accounts.stored_secrets import stored_key
from accounts.users import UserError, add_user, disable_user
from clock import utcnow
from models import AuditEntry, StoredSecret, User
from models.db import alembic_config, make_engine
from settings import reset_settings
from tests.conftest import POSTGRES_URL
from tests.test_admin import PASSWORD, csrf_of, log_in, make_app
from web.admin.session_cookie import COOKIE


def entries(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# ---------------------------------------------------------------- the command line


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, cast: dict[str, Any]) -> Iterator[Any]:
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", database_url)
    reset_settings()

    def run(*args: str, password: str | None = None) -> Any:
        return CliRunner().invoke(bot.main, ["user", *args], input=password)

    yield run
    reset_settings()


def test_user_add_reads_the_password_from_stdin_and_lists_it(
    cli: Any, session: Session, cast: dict[str, Any]
) -> None:
    added = cli("add", "Anna", "--role", "rep", "--rep", "rep-1", "--password-stdin",
                password="anna's own password\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Added rep anna." in added.output
    assert "anna's own password" not in added.output
    user = session.scalars(select(User)).one()
    assert (user.username, user.role, user.rep_id) == ("anna", "rep", cast["rep"].id)
    assert user.password_hash.startswith("$argon2id$")
    listed = cli("list")
    assert "anna" in listed.output and "rep-1" in listed.output and "enabled" in listed.output
    assert entries(session, "user.added")[0].target == "anna"


@pytest.mark.parametrize(
    ("args", "password", "error"),
    [
        (["add", "anna", "--role", "rep", "--password-stdin"], "long enough password",
         "a rep user must be linked to their rep: give --rep EXTERNAL_ID"),
        (["add", "anna", "--role", "rep", "--rep", "nobody", "--password-stdin"],
         "long enough password", "there is no rep with external id 'nobody'"),
        (["add", "anna", "--role", "admin", "--password-stdin"], "short",
         "the password must have at least 10 characters"),
        (["add", "an na", "--role", "admin", "--password-stdin"], "long enough password",
         "user name 'an na' is not valid"),
        (["add", "anna", "--role", "admin", "--password-stdin"], "", "no password on standard input"),
        (["disable", "ghost"], None, "there is no user 'ghost'"),
        (["set-password", "ghost", "--password-stdin"], "long enough password",
         "there is no user 'ghost'"),
    ],
)  # fmt: skip
def test_user_commands_say_in_one_line_what_is_wrong(
    cli: Any, session: Session, args: list[str], password: str | None, error: str
) -> None:
    result = cli(*args, password=password)
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"Error: {error}")
    assert session.scalars(select(User)).all() == []


def test_set_password_and_disable_from_the_command_line(cli: Any, session: Session) -> None:
    assert (
        cli(
            "add", "boss", "--role", "admin", "--password-stdin", password="first password\n"
        ).exit_code
        == 0
    )
    assert cli("add", "anna", "--role", "rep", "--rep", "rep-1", "--password-stdin",
               password="first password\n").exit_code == 0  # fmt: skip
    before = session.scalars(select(User.password_hash).where(User.username == "anna")).one()
    assert (
        cli("set-password", "anna", "--password-stdin", password="second password\n").exit_code == 0
    )
    session.expire_all()
    assert (
        session.scalars(select(User.password_hash).where(User.username == "anna")).one() != before
    )
    assert cli("disable", "anna").exit_code == 0
    assert "disabled" in cli("list").output
    last_admin = cli("disable", "boss")
    assert last_admin.exit_code == 1 and "last admin" in last_admin.output


# ---------------------------------------------------------------- the Users page and the audit trail


@pytest.fixture
def admin_client(db: sessionmaker[Session], cast: dict[str, Any]) -> Iterator[TestClient]:
    app, _ = make_app(db)
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client).status_code == 303
        yield client


def test_an_admin_adds_resets_and_disables_a_user_in_the_ui(
    admin_client: TestClient, db: sessionmaker[Session], session: Session
) -> None:
    csrf = csrf_of(admin_client.get("/admin/users").text)
    answer = admin_client.post("/admin/users", data={
        "username": "marek", "role": "manager", "rep": "mgr-1",
        "password": "marek's first password", "csrf_token": csrf})  # fmt: skip
    assert answer.status_code == 303
    page = admin_client.get("/admin/users").text
    assert "marek" in page and "Marek Nowak" in page
    bad = admin_client.post("/admin/users", data={
        "username": "carl", "role": "rep", "password": "long enough password", "csrf_token": csrf})  # fmt: skip
    assert bad.status_code == 422 and "must be linked to their rep" in bad.text
    # Marek logs in; a reset ends his session, a disable keeps him out.
    app, _ = make_app(db)
    with TestClient(app, follow_redirects=False) as marek:
        assert log_in(marek, "marek", "marek's first password").status_code == 303
        reset = admin_client.post("/admin/users/marek/password",
                                  data={"password": "marek's second password", "csrf_token": csrf})  # fmt: skip
        assert reset.status_code == 303
        assert marek.get("/admin/").status_code == 303
        assert log_in(marek, "marek", "marek's second password").status_code == 303
        assert (
            admin_client.post("/admin/users/marek/disable", data={"csrf_token": csrf}).status_code
            == 303
        )
        assert marek.get("/admin/").status_code == 303
    actions = [entry.action for entry in reversed(list(session.scalars(
        select(AuditEntry).where(AuditEntry.actor == "admin (admin)").order_by(AuditEntry.id.desc()))))]  # fmt: skip
    assert actions == ["user.added", "user.password_set", "user.disabled"]


def test_logins_and_admin_actions_are_in_the_audit_trail(
    admin_client: TestClient, db: sessionmaker[Session], session: Session
) -> None:
    app, _ = make_app(db)
    with TestClient(app, follow_redirects=False) as stranger:
        assert log_in(stranger, "admin", "wrong password").status_code == 401
    failed = entries(session, "login.failed")
    assert [(e.actor, e.target) for e in failed] == [("admin", "admin")]
    assert failed[0].detail.startswith("from ")
    assert [e.actor for e in entries(session, "login")] == ["admin"]
    csrf = csrf_of(admin_client.get("/admin/settings").text)
    body = admin_client.get("/admin/templates/survey_post_delivery/en").text
    assert "survey_post_delivery" in body
    admin_client.post("/admin/templates/survey_post_delivery/en/versions/0/restore",
                      data={"csrf_token": csrf})  # fmt: skip
    saved = entries(session, "template.saved")
    assert [(e.actor, e.target, e.detail) for e in saved] == [
        ("admin (admin)", "survey_post_delivery/en", "version 1")]  # fmt: skip
    page = admin_client.get("/admin/audit").text
    assert "login.failed" in page and "template.saved" in page
    filtered = admin_client.get("/admin/audit", params={"action": "login.failed"}).text
    assert "template.saved</code>" not in filtered and "login.failed</code>" in filtered


def test_a_settings_change_is_recorded_with_what_changed(
    admin_client: TestClient, session: Session
) -> None:
    from cadence.rules import DEFAULT_RULES
    from cadence.team import load_team
    from settings import Settings
    from web.admin.settings_page import as_form
    from web.admin.team_settings import team_form

    team = load_team(session, Settings().default_tz)  # unchanged: only the quiet hours move
    form = {**as_form(DEFAULT_RULES), **team_form(team)}
    form["quiet_end"] = "08:30"
    csrf = csrf_of(admin_client.get("/admin/settings").text)
    assert (
        admin_client.post("/admin/settings", data={**form, "csrf_token": csrf}).status_code == 303
    )
    (entry,) = entries(session, "settings.changed")
    assert entry.actor == "admin (admin)" and "quiet_end: '09:00' → '08:30'" in entry.detail


def test_the_bootstrap_password_stops_working_once_a_user_called_admin_exists(
    db: sessionmaker[Session], session: Session, cast: dict[str, Any]
) -> None:
    app, _ = make_app(db)
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client).status_code == 303
        add_user(session, utcnow(), "admin", "admin", "the real admin password", actor="test")
        session.commit()
        assert client.get("/admin/").status_code == 303  # the bootstrap session ends
        assert log_in(client, "admin", PASSWORD).status_code == 401
        assert log_in(client, "admin", "the real admin password").status_code == 303


def test_the_last_admin_cannot_be_disabled(session: Session) -> None:
    add_user(session, utcnow(), "boss", "admin", "long enough password", actor="test")
    with pytest.raises(UserError, match="last admin"):
        disable_user(session, utcnow(), "boss", actor="test")


# ---------------------------------------------------------------- the stored session key


def test_without_a_session_secret_every_process_signs_with_the_stored_key(
    db: sessionmaker[Session], cast: dict[str, Any]
) -> None:
    first, _ = make_app(db, session_secret="")
    second, _ = make_app(db, session_secret="")  # another `run` behind the same balancer
    with TestClient(first, follow_redirects=False) as one, TestClient(second) as two:
        assert log_in(one).status_code == 303
        two.cookies.set(COOKIE, one.cookies[COOKIE], path="/admin")
        assert two.get("/admin/", follow_redirects=False).status_code == 200
    with db() as session:
        assert len(session.scalars(select(StoredSecret)).all()) == 1


def test_processes_starting_at_once_agree_on_one_key(engine: Engine) -> None:
    factories = [sessionmaker(engine) for _ in range(8)]
    keys: list[bytes] = []
    start = threading.Barrier(len(factories))

    def fetch(factory: sessionmaker[Session]) -> None:
        start.wait()
        keys.append(stored_key(factory, "race"))

    threads = [threading.Thread(target=fetch, args=(factory,)) for factory in factories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) == 32


# ---------------------------------------------------------------- the migration


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    """A database with no schema at all, of each kind."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
        return
    request.getfixturevalue("postgres_engine")  # skips (or fails in CI) without PostgreSQL
    schema = f"aftercare_migration_{os.getpid()}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    joiner = "&" if "?" in POSTGRES_URL else "?"
    engine = make_engine(f"{POSTGRES_URL}{joiner}options=-csearch_path%3D{schema}")
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def _to(engine: Engine, revision: str, *, down: bool = False) -> None:
    with engine.connect() as connection:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
        connection.commit()


def test_admin_reps_with_a_password_become_users_and_back(empty_database: Engine) -> None:
    engine = empty_database
    _to(engine, "0010")
    hashed = hash_password("an old admin password")
    with engine.begin() as connection:
        for external_id, role, password_hash in (
            ("Boss-1", "admin", hashed), ("mgr-1", "manager", hashed), ("adm-2", "admin", None)
        ):  # fmt: skip
            connection.execute(
                text("INSERT INTO reps (external_id, name, role, password_hash, created_at, "
                     "updated_at) VALUES (:e, :e, :r, :p, :t, :t)"),
                {"e": external_id, "r": role, "p": password_hash, "t": datetime(2026, 1, 1)},
            )  # fmt: skip
    _to(engine, "head")
    with Session(engine) as session:
        (user,) = session.scalars(select(User)).all()  # only the admin who had a password
        assert (user.username, user.role) == ("boss-1", "admin")
        assert matches(user.password_hash, "an old admin password")
    _to(engine, "0010", down=True)
    with engine.connect() as connection:
        restored = connection.execute(
            text("SELECT external_id, password_hash FROM reps ORDER BY external_id")
        ).all()
    assert restored == [("Boss-1", hashed), ("adm-2", None), ("mgr-1", None)]
