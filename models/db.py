"""Engine and session set-up, and bringing the schema up to date."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Engine,
    Select,
    String,
    Text,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same in every Aftercare process.
MIGRATION_LOCK_KEY = 0x41667465  # "Afte"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine tuned for the backend: SQLite in WAL mode with a busy timeout."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's lower() folds ASCII only ("Коваленко" stays as it is), so searches use
    # Python's full Unicode case folding, registered on every connection.
    dbapi_connection.create_function("casefold", 1, _casefold, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _casefold(value: object) -> str | None:
    return None if value is None else str(value).casefold()


def case_folded(session: Session, expression: Any) -> ColumnElement[str]:
    """`expression` with case folded in every script: casefold() on SQLite, lower() on PostgreSQL.

    PostgreSQL's lower() follows the database's LC_CTYPE (C.UTF-8 or a language locale
    fold every script; a bare "C" locale folds ASCII only).
    """
    if session.get_bind().dialect.name == "sqlite":
        return cast("ColumnElement[str]", func.casefold(expression))
    return cast("ColumnElement[str]", func.lower(expression))


def one_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)`: on PostgreSQL `column = ANY(:array)`, one parameter however many.

    A batch's IN list of 500 ids is 500 parameters and a statement text the driver
    parses afresh each time; one array parameter keeps the text short and constant.
    SQLite has no arrays, and takes the list in-process.
    """
    listed = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return cast(
            "ColumnElement[bool]",
            column == any_(bindparam(None, listed, type_=ARRAY(column.type))),
        )
    return cast("ColumnElement[bool]", column.in_(listed))


_STATE = re.compile(r"[a-z_]+")


def in_state(column: Any, *states: str) -> ColumnElement[bool]:
    """`column = 'state'` (or `IN (...)`) with the states written into the SQL as constants.

    The outbox's and the planner's hot indexes are partial (`WHERE status = 'queued'`):
    they hold only the live rows, so sending a message does not rewrite them. PostgreSQL
    uses a partial index only when the query's condition proves the index's, and a bound
    parameter proves nothing to a generic plan (the one a prepared statement settles on
    after five runs), so the states must be literals. They are the code's own state names,
    never input, and anything else is refused.
    """
    for state in states:
        if not _STATE.fullmatch(state):
            raise ValueError(f"{state!r} is not a state")
    if len(states) == 1:
        return cast("ColumnElement[bool]", column == literal_column(f"'{states[0]}'"))
    return cast(
        "ColumnElement[bool]", column.in_([literal_column(f"'{state}'") for state in states])
    )


def insert_rows(
    session: Session,
    model: Any,
    rows: list[dict[str, Any]],
    *,
    unless_exists: list[str] | None = None,
    returning: Any = None,
) -> list[Any]:
    """INSERT `rows` (dicts with the same keys) into `model`'s table in one statement.

    On PostgreSQL the rows travel as one array per column (`INSERT ... SELECT FROM
    unnest(...)`): thousands of rows are one short statement, planned once, where a
    multi-row VALUES is thousands of parameters the driver splices into the text.
    SQLite, in-process, takes the rows as they are. For rows of short values (keys,
    ids, times): psycopg quotes each text array element in Python, so long free text
    (message bodies) goes faster as an executemany. With `unless_exists` (the columns
    of a unique key), rows whose key is taken are skipped; with `returning` (a column),
    the inserted rows' values of it.
    """
    if not rows:
        return []
    table = model.__table__
    names = list(rows[0])
    postgres = session.get_bind().dialect.name == "postgresql"
    session.flush()  # what the session holds goes first, as with the ORM's own INSERTs
    if postgres:
        arrays = (
            bindparam(f"rows_{name}", [row[name] for row in rows], type_=_array_of(table.c[name]))
            for name in names
        )
        given = func.unnest(*arrays).table_valued(*names).render_derived()
        statement: Any = postgresql.insert(table).from_select(names, select(*given.c))
    else:
        statement = sqlite.insert(table)
    if unless_exists:
        statement = statement.on_conflict_do_nothing(index_elements=unless_exists)
    if returning is not None:
        statement = statement.returning(returning)
    result = session.connection().execute(statement, None if postgres else rows)
    return [row[0] for row in result] if returning is not None else []


def _array_of(column: Any) -> ARRAY[Any]:
    # Strings travel as text[]: a cast to varchar(n)[] would cut an over-long value
    # silently, where the INSERT's own assignment to the column refuses it.
    kind = column.type
    return ARRAY(Text() if isinstance(kind, String) else kind)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def claimed(session: Session, due: Select[Any], id_column: Any) -> ColumnElement[bool]:
    """The condition "`id_column` is one of the ids `due` selects", with `due` run once.

    `due` is a `SELECT id ... LIMIT n FOR UPDATE SKIP LOCKED`. Inside `IN (...)`
    PostgreSQL may run such a subquery again for every row, and each run skips
    what the last one locked, so a claim of 8 could take every due row: there it
    is a materialised CTE. On SQLite the claim must stay `UPDATE ... WHERE id IN
    (...)`: pysqlite opens a transaction only before a statement that starts with
    INSERT, UPDATE or DELETE, and a claim starting with WITH would commit on its
    own, outside the caller's transaction (a crash would then lose its work).
    """
    if session.get_bind().dialect.name == "postgresql":
        taken = due.cte("taken").prefix_with("MATERIALIZED")
        return cast("ColumnElement[bool]", id_column == taken.c[0])
    return cast("ColumnElement[bool]", id_column.in_(due.scalar_subquery()))


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration.

    On PostgreSQL several `run` processes may start at once, so the upgrade
    runs under an advisory lock and the later ones find nothing left to do.
    A schema already at the newest migration is recognised with one query,
    without loading Alembic (commands start four at a time, from cron).
    """
    if _at_head(engine):
        return
    from alembic import command

    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            connection.commit()
        try:
            config = alembic_config(engine.url.render_as_string(hide_password=False))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                connection.commit()


@functools.cache
def head_revision() -> str | None:
    """The newest migration's id, read from the files; None when there is not exactly one."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = re.search(r"^revision\s*=\s*[\"'](\w+)", source, re.MULTILINE)
        parent = re.search(r"^down_revision\s*=\s*[\"'](\w+)", source, re.MULTILINE)
        if revision:
            revisions.add(revision[1])
        if parent:
            parents.add(parent[1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # a new database: no version table yet
        return False
    return [row[0] for row in current] == [head]


@functools.cache
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def open_database(url: str, *, upgrade: bool = True) -> tuple[Engine, sessionmaker[Session]]:
    """Connect to `url`, bring the schema up to date, and return (engine, session factory)."""
    engine = _engine_for(url)
    if upgrade:
        migrate(engine)
    return engine, session_factory(engine)
