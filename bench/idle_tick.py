"""An idle scheduler pass over 1,000,000 customers with nothing due; print its latency.

    .venv/bin/python -m bench.idle_tick [--count N] [--repeat R]

Every customer has a car delivered long ago and was surveyed recently, so no
rule has anything to do: the pass must find that out through indexes, without
scanning the tables.
"""

from __future__ import annotations

import argparse
import statistics

from sqlalchemy import Engine, text

from bench.common import fresh_databases, numbers, timed, ts
from messaging.channels import ConsoleChannel, console_only
from models.db import session_factory
from scheduler.tick import tick
from settings import Settings
from tests.conftest import at

NOW = "2026-03-02 12:00:00"


def seed(engine: Engine, count: int) -> None:
    created = ts(engine, "2025-01-01 00:00:00")
    delivered = ts(engine, "2025-06-01 10:00:00")
    surveyed = ts(engine, "2026-02-20 10:00:00")
    next_service = ts(engine, "2026-06-01 10:00:00")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, external_id, name, phone, telegram_link_token, language, timezone, channel, tags, last_survey_at, periodic_anchor_at, created_at, updated_at) "
                f"SELECT n, 'c' || n, 'Customer ' || n, '+1415' || (5000000 + n), 'tok' || n, 'en', 'UTC', 'sms', '[]', {surveyed}, {surveyed}, {created}, {created} "
                f"FROM {numbers(engine, count)}"
            )
        )
        connection.execute(
            text(
                "INSERT INTO purchases (id, external_id, customer_id, product, category, promised_delivery_date, delivered_at, next_service_at, created_at, updated_at) "
                f"SELECT n, 'o' || n, n, 'Skoda Octavia', 'car', '2025-05-30', {delivered}, {next_service}, {created}, {created} FROM {numbers(engine, count)}"
            )
        )
        connection.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    settings = Settings()
    for kind, engine in fresh_databases():
        seconds, _ = timed(seed, engine, args.count)
        print(f"{kind:10} seeded {args.count:,} customers and purchases in {seconds:.0f} s")
        factory = session_factory(engine)
        transports = console_only(ConsoleChannel(stream=None))
        tick(factory, at(NOW), transports, settings)  # warm caches and connections
        samples = []
        for _ in range(args.repeat):
            seconds, report = timed(tick, factory, at(NOW), transports, settings)
            assert report.planned.total() == 0 and report.drained.total == 0
            samples.append(seconds * 1000)
        print(
            f"{kind:10} idle tick over {args.count:,} customers: median {statistics.median(samples):.1f} ms, "
            f"max {max(samples):.1f} ms ({args.repeat} passes)"
        )


if __name__ == "__main__":
    main()
