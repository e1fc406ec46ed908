"""models.db.insert_rows: many rows in one statement (unnest on PostgreSQL), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from models import CheckIn, Customer
from models.db import insert_rows

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


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


def test_rows_go_in_with_their_values_and_duplicates_are_skipped(
    db: sessionmaker[Session],
) -> None:
    with db.begin() as session:
        customer = Customer(external_id="c1", name="Ola Nowak", phone="+48601000001")
        session.add(customer)
        session.flush()
        cid = customer.id
    rows = [_row(cid, f"k{n}", NOW - timedelta(hours=n)) for n in range(300)]
    with db.begin() as session:
        ids = insert_rows(
            session,
            CheckIn,
            rows,
            unless_exists=["customer_id", "kind", "dedupe_key"],
            returning=CheckIn.id,
        )
    assert len(ids) == len(set(ids)) == 300
    # The same keys again, plus two new ones: only the new ones go in.
    again = rows[:10] + [_row(cid, "new-1", NOW), _row(cid, "new-2", NOW)]
    with db.begin() as session:
        new = insert_rows(
            session,
            CheckIn,
            again,
            unless_exists=["customer_id", "kind", "dedupe_key"],
            returning=CheckIn.id,
        )
    assert len(new) == 2 and not set(new) & set(ids)
    with db() as session:
        stored = {c.dedupe_key: c for c in session.scalars(select(CheckIn))}
    assert len(stored) == 302
    # Times come back as the same aware UTC instants, NULLs as None.
    assert stored["k7"].due_at == NOW - timedelta(hours=7)
    assert stored["k7"].due_at.tzinfo is not None
    assert stored["k7"].purchase_id is None and stored["k7"].status == "scheduled"


def test_nothing_to_insert_is_no_statement(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        assert insert_rows(session, CheckIn, [], returning=CheckIn.id) == []


def test_an_over_long_value_is_refused_not_cut(db: sessionmaker[Session]) -> None:
    """A key longer than its column: PostgreSQL refuses it (as an INSERT would, never cut to
    fit); SQLite, which keeps any length, stores all of it."""
    with db.begin() as session:
        customer = Customer(external_id="c1", name="Ola Nowak", phone="+48601000001")
        session.add(customer)
        session.flush()
        cid = customer.id
    key = "k" * 150  # dedupe_key is VARCHAR(100)
    postgres = db.kw["bind"].dialect.name == "postgresql"
    with db() as session:
        if postgres:
            with pytest.raises(DBAPIError, match="too long"):
                insert_rows(session, CheckIn, [_row(cid, key, NOW)], returning=CheckIn.id)
        else:
            insert_rows(session, CheckIn, [_row(cid, key, NOW)], returning=CheckIn.id)
            session.commit()
            assert session.scalar(select(CheckIn.dedupe_key)) == key


def test_what_the_session_holds_goes_in_first(db: sessionmaker[Session]) -> None:
    """A check-in added to the session but not yet flushed is written before the rows, so
    the rows' unique key sees it (one check-in, not a duplicate at the next flush)."""
    with db.begin() as session:
        customer = Customer(external_id="c1", name="Ola Nowak", phone="+48601000001")
        session.add(customer)
        session.flush()
        session.add(CheckIn(**_row(customer.id, "k1", NOW)))
        new = insert_rows(
            session,
            CheckIn,
            [_row(customer.id, "k1", NOW), _row(customer.id, "k2", NOW)],
            unless_exists=["customer_id", "kind", "dedupe_key"],
            returning=CheckIn.id,
        )
        assert len(new) == 1
    with db() as session:
        assert session.scalar(select(func.count()).select_from(CheckIn)) == 2
