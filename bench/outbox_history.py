"""The outbox's round trip (queue, claim, mark sent) with a long history behind it, on
PostgreSQL: the live-row (partial) indexes against the full indexes they replaced.

    .venv/bin/python -m bench.outbox_history [--history N] [--batch B] [--rounds R]

A business keeps every message it has sent (the conversation pages, the reports), so
after a year the outbox table is mostly history. Each round queues a batch, claims it
100 at a time and records it sent, through the outbox's own functions: first with this
version's indexes, then, in the same schema and the same run, with the full indexes
of migration 0016 rebuilt in their place. It prints the indexes' sizes after the
rounds, the median round, and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bench.common import fresh_databases, numbers, ts
from messaging.outbox.claims import claim
from messaging.outbox.queue import BULK, message_row, queue_many
from messaging.outbox.record import Outcome, OutcomeKind, record
from models.db import session_factory
from models.states import Purpose
from tests.conftest import at

NOW = at("2026-03-10 12:00")
CLAIM = 100

# This version's live-row indexes, and the full ones they replaced (migration 0017).
LIVE = {
    "ix_messages_queue": "(lane, next_attempt_at, id) WHERE status = 'queued'",
    "ix_messages_leased": "(lease_until, id) WHERE status IN ('sending', 'uncertain')",
    "ix_messages_rep_id": "(rep_id) WHERE rep_id IS NOT NULL",
}
FULL = {
    "ix_messages_lane_status_next_attempt_at": "(lane, status, next_attempt_at, id)",
    "ix_messages_status_lease_until": "(status, lease_until)",
    "ix_messages_rep_id": "(rep_id)",
}


def seed_history(engine: Engine, count: int) -> None:
    """`count` delivered surveys of the past, as a year of sending leaves them."""
    sent = ts(engine, "2025-06-01 10:00:00")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO messages (direction, channel, purpose, address, body, status, "
                "provider_id, attempts, lane, claimed_by, created_at, sent_at, delivered_at) "
                "SELECT 'out', 'sms', 'survey', '+1415' || (5000000 + n), "
                "'Hi, how likely are you to recommend us? Reply 0-10.', 'delivered', "
                f"'SMold' || n, 1, 'bulk', 'w0', {sent}, {sent}, {sent} "
                f"FROM {numbers(engine, count)}"
            )
        )


def use_indexes(engine: Engine, drop: dict[str, str], create: dict[str, str]) -> None:
    with engine.begin() as connection:
        for name in drop:
            connection.execute(text(f"DROP INDEX {name}"))
        for name, definition in create.items():
            connection.execute(text(f"CREATE INDEX {name} ON messages {definition}"))
    vacuum(engine)


def vacuum(engine: Engine) -> None:
    """Statistics fresh and dead rows gone, as autovacuum leaves a table between mornings."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE messages"))


def one_round(factory: sessionmaker[Session], batch: int, round_number: int) -> float:
    """Seconds to queue `batch` surveys, claim them and record them sent."""
    start = time.perf_counter()
    with factory.begin() as session:
        queue_many(
            session,
            [
                message_row(
                    now=NOW,
                    channel="sms",
                    address=f"+1628{round_number:03d}{i:04d}",
                    body="Hi, how likely are you to recommend us? Reply 0-10.",
                    purpose=Purpose.SURVEY,
                )
                for i in range(batch)
            ],
        )
    while True:
        with factory.begin() as session:
            taken = claim(
                session,
                lane=BULK,
                now=NOW,
                worker="w1",
                limit=CLAIM,
                claimed_at=NOW,
                lease_until=NOW + timedelta(seconds=30),
            )
        if not taken:
            break
        with factory.begin() as session:
            outcomes = [
                Outcome(m, OutcomeKind.SENT, provider_id=f"SMnew{round_number}x{m.id}")
                for m in taken
            ]
            record(session, NOW, NOW, "w1", outcomes, "UTC")
    return time.perf_counter() - start


def index_sizes(engine: Engine, names: list[str]) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: int(connection.execute(text(f"SELECT pg_relation_size('{name}')")).scalar_one())
            for name in names
        }


def measure(engine: Engine, batch: int, rounds: int, names: list[str]) -> tuple[float, int]:
    factory = session_factory(engine)
    one_round(factory, batch, 0)  # warm: plans and caches
    times = [one_round(factory, batch, r) for r in range(1, rounds + 1)]
    sizes = index_sizes(engine, names)
    for name, size in sizes.items():
        print(f"    {name}: {size / 1024:,.0f} KiB")
    return statistics.median(times), sum(sizes.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=int, default=300_000, help="messages already sent")
    parser.add_argument("--batch", type=int, default=2_000, help="surveys per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for _kind, engine in fresh_databases(("postgresql",)):
        print(f"postgresql: {args.history:,} sent messages behind, rounds of {args.batch:,}")
        seed_history(engine, args.history)
        vacuum(engine)
        print("  live-row indexes (this version):")
        live, live_size = measure(engine, args.batch, args.rounds, list(LIVE))
        use_indexes(engine, LIVE, FULL)
        print("  full indexes (before migration 0017):")
        full, full_size = measure(engine, args.batch, args.rounds, list(FULL))
        print(
            f"  a round: {live * 1000:,.0f} ms with live-row indexes, {full * 1000:,.0f} ms with"
            f" full ones ({full / live:.2f}x); {args.batch / live:,.0f} against"
            f" {args.batch / full:,.0f} messages/s through the outbox"
        )
        print(
            f"  the three indexes: {live_size / 1024:,.0f} KiB against {full_size / 1024:,.0f}"
            f" KiB ({full_size / max(live_size, 1):,.0f}x)"
        )


if __name__ == "__main__":
    main()
