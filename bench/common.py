"""Shared set-up for the benchmarks: fresh databases of each kind, rows made in SQL."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from models.db import make_engine, migrate

POSTGRES_URL = os.environ.get(
    "AFTERCARE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SCHEMA = "aftercare_bench"


def fresh_databases(
    kinds: tuple[str, ...] = ("sqlite", "postgresql"),
    schema: str = SCHEMA,
    migrated: Callable[[Engine], None] = migrate,
) -> Iterator[tuple[str, Engine]]:
    """Yield (kind, migrated empty engine) for each kind that is available.

    On PostgreSQL the database is a schema of its own (`schema`), dropped afterwards.
    `migrated` brings the empty database to the schema (this checkout's, by default).
    """
    for kind in kinds:
        if kind == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
                migrated(engine)
                yield kind, engine
                engine.dispose()
        else:
            admin = make_engine(POSTGRES_URL)
            try:
                with admin.begin() as connection:
                    connection.execute(
                        text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
                    )
            except Exception as exc:  # noqa: BLE001
                print(
                    f"postgresql: skipped ({exc.__class__.__name__}: not reachable at {POSTGRES_URL})"
                )
                continue
            engine = make_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
            migrated(engine)
            yield kind, engine
            engine.dispose()
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.dispose()


def numbers(engine: Engine, count: int) -> str:
    """A FROM clause yielding n = 1..count on either backend."""
    if engine.dialect.name == "postgresql":
        return f"generate_series(1, {count}) AS g(n)"
    return f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) SELECT n FROM s)"


def timed(function: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """(seconds, result) of `function(*args)`."""
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def ts(engine: Engine, iso: str) -> str:
    """A timestamp literal in the form each backend stores UTCDateTime."""
    if engine.dialect.name == "postgresql":
        return f"TIMESTAMPTZ '{iso}+00:00'"
    return f"'{iso}.000000'"
