"""Insert a row exactly once, whatever races or redeliveries say.

A webhook delivered twice, two processes scoring the same check-in, or two
escalations for one response all meet the same unique key. We let the database
decide with `INSERT ... ON CONFLICT DO NOTHING RETURNING id` rather than a
SAVEPOINT and a caught IntegrityError: pysqlite does not open a transaction
before a SAVEPOINT, so on SQLite releasing the first savepoint of a session
commits everything before it, outside the caller's transaction.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import Base

Row = TypeVar("Row", bound=Base)


def insert_once(
    session: Session, model: type[Row], values: dict[str, Any], *, unique: dict[str, Any]
) -> tuple[Row, bool]:
    """Insert `values` unless a row with the `unique` key exists; return (row, inserted)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table_id = model.__table__.c.id
    new_id = session.scalar(
        insert(model).values(**values).on_conflict_do_nothing().returning(table_id)
    )
    if new_id is not None:
        return session.get_one(model, new_id), True
    return session.scalars(select(model).filter_by(**unique)).one(), False
