"""How long importing 50,000 customers (and a purchase each) takes, fresh and again unchanged.

    python -m bench.import_customers [--rows N] [--database-url URL]

Without --database-url it uses a new SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from importing import import_csv
from models import Customer, Rep
from models.db import open_database, transaction

LANGUAGES = ("en", "pl", "uk", "ru", "th")
ZONES = ("Europe/Warsaw", "Europe/Kyiv", "Asia/Bangkok", "America/New_York", "")


def write_files(folder: Path, rows: int) -> tuple[Path, Path]:
    customers, purchases = folder / "customers.csv", folder / "purchases.csv"
    with customers.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["external_id", "name", "phone", "language", "timezone", "rep_external_id", "tags"]
        )
        for i in range(rows):
            writer.writerow(
                [
                    f"c{i}",
                    f"Customer {i}",
                    f"+48 60{i:07d}",
                    LANGUAGES[i % 5],
                    ZONES[i % 5],
                    "bench-rep",
                    "a;b",
                ]
            )
    with purchases.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["external_id", "customer_external_id", "product", "category", "delivered_at"]
        )
        for i in range(rows):
            writer.writerow([f"p{i}", f"c{i}", "Octavia", "car", "2026-01-15 10:00"])
    return customers, purchases


def timed(factory: sessionmaker[Session], kind: str, path: Path) -> None:
    started = time.perf_counter()
    with transaction(factory) as session:
        report = import_csv(session, kind, path, now=utcnow(), default_tz="UTC")
    print(f"{report.summary():55} {time.perf_counter() - started:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        _, factory = open_database(url)
        with transaction(factory) as session:
            if session.scalar(select(func.count()).select_from(Customer)):
                raise SystemExit(f"{url} already holds customers; use an empty database")
            session.add(Rep(external_id="bench-rep", name="Bench Rep", phone="+48600000001"))
        customers, purchases = write_files(Path(folder), args.rows)
        timed(factory, "customers", customers)
        timed(factory, "customers", customers)
        timed(factory, "purchases", purchases)
        timed(factory, "purchases", purchases)


if __name__ == "__main__":
    main()
