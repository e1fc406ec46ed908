"""Plan and dispatch 100,000 due check-ins through the console channel; print check-ins/s.

    .venv/bin/python -m bench.dispatch [--count N]

Each customer has one car delivered a day and a bit ago, so the pass plans one
post-delivery survey per customer, decides it (opt-out, throttle, holds, quiet
hours), renders it from the template, queues it, and drains the outbox.
"""

from __future__ import annotations

import argparse

from sqlalchemy import Engine, func, select, text

from bench.common import fresh_databases, numbers, timed, ts
from messaging.channels import ConsoleChannel, console_only
from models import CheckIn
from models.db import session_factory
from scheduler.tick import tick
from settings import Settings
from tests.conftest import at

NOW = "2026-03-02 12:00:00"


def seed(engine: Engine, count: int) -> None:
    delivered = ts(engine, "2026-03-01 10:00:00")
    created = ts(engine, "2026-01-01 00:00:00")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, external_id, name, phone, telegram_link_token, language, timezone, channel, tags, created_at, updated_at) "
                f"SELECT n, 'c' || n, 'Customer ' || n, '+1415' || (5000000 + n), 'tok' || n, 'en', 'UTC', 'sms', '[]', {created}, {created} "
                f"FROM {numbers(engine, count)}"
            )
        )
        connection.execute(
            text(
                "INSERT INTO purchases (id, external_id, customer_id, product, category, delivered_at, created_at, updated_at) "
                f"SELECT n, 'o' || n, n, 'Skoda Octavia', 'car', {delivered}, {created}, {created} FROM {numbers(engine, count)}"
            )
        )
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    settings = Settings(business_name="Kowalski Motors")
    for kind, engine in fresh_databases():
        seed(engine, args.count)
        factory = session_factory(engine)
        console = ConsoleChannel(stream=None)
        seconds, report = timed(tick, factory, at(NOW), console_only(console), settings)
        with factory() as session:
            sent = session.scalar(select(func.count(CheckIn.id)).where(CheckIn.status == "sent"))
        assert sent == args.count == len(console.sent), (sent, len(console.sent))
        print(
            f"{kind:10} {args.count:>7} check-ins planned, rendered, sent in {seconds:6.1f} s = {args.count / seconds:8.0f} check-ins/s"
        )
        again, _ = timed(tick, factory, at(NOW), console_only(console), settings)
        print(
            f"{kind:10} the same pass again: {again * 1000:6.0f} ms, {len(console.sent) - args.count} new messages"
        )


if __name__ == "__main__":
    main()
