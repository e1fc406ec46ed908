"""The hot queries read the partial indexes that hold only live rows.

A partial index (`WHERE status = 'queued'`) serves a query only when the query's own
condition proves the index's. A bound `status = $1` proves nothing to the generic plan
PostgreSQL settles on for a statement prepared and run many times (psycopg prepares a
statement on its fifth run), so the claim would fall back to reading the whole table:
the states are written into the SQL (models.db.in_state). These tests force the
generic plan, so a query that binds its state fails here rather than at the fifth tick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from messaging.outbox.claims import claim
from messaging.outbox.queue import BULK
from messaging.outbox.reconcile import take_lost
from models import CheckIn, Customer, Message
from models.db import in_state
from scheduler.dispatch import claim_due
from tests.conftest import at

NOW = at("2026-03-10 12:00")


@pytest.fixture
def live_rows(session: Session) -> Session:
    """A customer with a due check-in, a queued message, and a message whose lease ran out."""
    customer = Customer(external_id="c-1", name="Ada", phone="+14155550101", channel="sms")
    session.add(customer)
    session.flush()
    session.add(
        CheckIn(
            customer_id=customer.id,
            kind="periodic",
            dedupe_key="2026-03",
            due_at=NOW,
            status="scheduled",
        )
    )
    common = {"direction": "out", "channel": "sms", "customer_id": customer.id, "body": "Hi"}
    session.add_all(
        [
            Message(**common, status="queued", lane=BULK, next_attempt_at=NOW),
            Message(**common, status="sending", lane=BULK, lease_until=NOW - timedelta(hours=1)),
        ]
    )
    session.commit()
    return session


@contextmanager
def indexes_read(session: Session) -> Iterator[Callable[[], set[str]]]:
    """The names of the indexes the statements run inside the block read.

    PostgreSQL: every statement prepared at once and planned generically, sequential scans
    priced out, and the indexes counted by the server's per-transaction statistics.
    SQLite: each statement's EXPLAIN QUERY PLAN.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.dbapi_connection
        before = driver.prepare_threshold  # type: ignore[union-attr]
        driver.prepare_threshold = 0  # type: ignore[union-attr]
        connection.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        try:
            yield lambda: _scanned_on_postgres(session)
        finally:
            driver.prepare_threshold = before  # type: ignore[union-attr]
        return
    statements: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", remember)
    try:
        yield lambda: _planned_on_sqlite(session, statements)
    finally:
        event.remove(connection, "before_cursor_execute", remember)


def _scanned_on_postgres(session: Session) -> set[str]:
    rows = session.execute(
        text(
            "SELECT indexrelname FROM pg_stat_user_indexes "
            "WHERE schemaname = current_schema() AND pg_stat_get_xact_numscans(indexrelid) > 0"
        )
    )
    return {row[0] for row in rows}


def _planned_on_sqlite(session: Session, statements: list[tuple[str, Any]]) -> set[str]:
    found: set[str] = set()
    raw = session.connection().connection.dbapi_connection
    for statement, parameters in list(statements):
        cursor = raw.cursor()  # type: ignore[union-attr]
        plan = cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
        cursor.close()
        for row in plan:
            words = str(row[-1]).split()
            if "INDEX" in words:
                found.add(words[words.index("INDEX") + 1])
    return found


def test_claiming_due_messages_reads_the_queue_index(live_rows: Session) -> None:
    with live_rows.begin(), indexes_read(live_rows) as read:
        taken = claim(
            live_rows,
            lane=BULK,
            now=NOW,
            worker="w1",
            limit=10,
            claimed_at=NOW,
            lease_until=NOW + timedelta(minutes=2),
        )
        assert [m.body for m in taken] == ["Hi"]
        assert "ix_messages_queue" in read()


def test_taking_lost_claims_reads_the_lease_index(live_rows: Session) -> None:
    with live_rows.begin(), indexes_read(live_rows) as read:
        lost = take_lost(live_rows, NOW, "w1", timedelta(minutes=2))
        assert [m.status for m in lost] == ["sending"]
        assert "ix_messages_leased" in read()


def test_claiming_due_checkins_reads_the_scheduled_index(live_rows: Session) -> None:
    with live_rows.begin(), indexes_read(live_rows) as read:
        assert len(claim_due(live_rows, NOW, 10)) == 1
        assert "ix_checkins_scheduled" in read()


def test_a_state_is_a_name_of_the_code_never_arbitrary_text() -> None:
    with pytest.raises(ValueError, match="is not a state"):
        in_state(Message.status, "queued' OR '1'='1")
