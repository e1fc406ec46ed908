"""models.db.insert_rows: many rows in one statement (unnest on PostgreSQL), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from models import CheckIn, Customer
from models.db import insert_rows

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
UNIQUE_KEY = ["customer_id", "kind", "dedupe_key"]


def _row(customer_id: int, key: str, due: datetime, purchase_id: int | None = None) -> dict:
    return {
        "customer_id": customer_id,
        "kind": "periodic",
        "dedupe_key": key,
        "due_at": due,
        "status": "scheduled",
        "created_at": NOW,
        "purchase_id": purchase_id,
    }


def _customer(db: sessionmaker[Session]) -> int:
    with db.begin() as session:
        customer = Customer(external_id="c1", name="Ola Nowak", phone="+48601000001")
        session.add(customer)
        session.flush()
        return customer.id


def _plan(session: Session, rows: list[dict]) -> list[int]:
    """The rows in as the planner puts them: skipping keys already planned, ids back."""
    return insert_rows(session, CheckIn, rows, unless_exists=UNIQUE_KEY, returning=CheckIn.id)


def test_rows_go_in_with_their_values_and_duplicates_are_skipped(
    db: sessionmaker[Session],
) -> None:
    cid = _customer(db)
    rows = [_row(cid, f"k{n}", NOW - timedelta(hours=n)) for n in range(300)]
    with db.begin() as session:
        ids = _plan(session, rows)
    assert len(ids) == len(set(ids)) == 300
    # The same keys again, plus two new ones: only the new ones go in.
    again = rows[:10] + [_row(cid, "new-1", NOW), _row(cid, "new-2", NOW)]
    with db.begin() as session:
        new = _plan(session, again)
    assert len(new) == 2 and not set(new) & set(ids)
    with db() as session:
        stored = {c.dedupe_key: c for c in session.scalars(select(CheckIn))}
    assert len(stored) == 302
    # Times come back as the same aware UTC instants, NULLs as None.
    assert stored["k7"].due_at == NOW - timedelta(hours=7)
    assert stored["k7"].due_at.tzinfo is not None
    assert stored["k7"].purchase_id is None and stored["k7"].status == "scheduled"


def test_nothing_to_insert_is_no_statement(db: sessionmaker[Session]) -> None:
    engine = db.kw["bind"]
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with db.begin() as session:
            assert insert_rows(session, CheckIn, [], returning=CheckIn.id) == []
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "INSERT" in s.upper()]


def test_an_over_long_value_is_refused_not_cut(db: sessionmaker[Session]) -> None:
    """A key longer than its column: PostgreSQL refuses it (as an INSERT would, never cut to
    fit); SQLite, which keeps any length, stores all of it."""
    cid = _customer(db)
    key = "k" * 150  # dedupe_key is VARCHAR(100)
    postgres = db.kw["bind"].dialect.name == "postgresql"
    with db() as session:
        if postgres:
            with pytest.raises(DBAPIError, match="too long"):
                _plan(session, [_row(cid, key, NOW)])
        else:
            _plan(session, [_row(cid, key, NOW)])
            session.commit()
            assert session.scalar(select(CheckIn.dedupe_key)) == key


def test_what_the_session_holds_goes_in_first(db: sessionmaker[Session]) -> None:
    """A check-in added to the session but not yet flushed is written before the rows, so
    the rows' unique key sees it (one check-in, not a duplicate at the next flush)."""
    cid = _customer(db)
    with db.begin() as session:
        session.add(CheckIn(**_row(cid, "k1", NOW)))
        assert len(_plan(session, [_row(cid, "k1", NOW), _row(cid, "k2", NOW)])) == 1
    with db() as session:
        assert session.scalar(select(func.count()).select_from(CheckIn)) == 2
