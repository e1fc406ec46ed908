"""The start of a response's UTC week, as SQL on SQLite and PostgreSQL (the weekly trend)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String


class week_start(FunctionElement[str]):  # noqa: N801 - reads like the SQL function it stands for
    """`YYYY-MM-DD` of the Monday that starts a UTC timestamp's ISO week."""

    type = String()
    inherit_cache = True


@compiles(week_start)
@compiles(week_start, "sqlite")
def _week_start_sqlite(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    # 'weekday 0' moves forward to the next Sunday (or stays on one); six days back is Monday.
    column = compiler.process(element.clauses, **kw)
    return f"date(substr({column}, 1, 10), 'weekday 0', '-6 days')"


@compiles(week_start, "postgresql")
def _week_start_postgresql(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(date_trunc('week', ({column}) AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
