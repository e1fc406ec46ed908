"""Signed Twilio inbound webhooks against a real `bot.py run`: requests/s, latency, who was answered.

    .venv/bin/python -m bench.webhook_ingest [--requests N] [--concurrency C] [--rate R]
                                             [--database sqlite|postgresql|both]

Each customer has a survey out and waiting; each replies with a score (some
with words) from their own phone, and one webhook in twenty is Twilio
delivering a MessageSid again. The webhooks are signed as Twilio signs them,
for AFTERCARE_PUBLIC_URL, and posted by bench/webhook_load.py from a process
of its own over `--concurrency` keep-alive connections: as fast as they are
answered, or `--rate` a second. The answers go out through the outbox's
interactive lane to the fake Twilio of tests/fakes, so "answered" means the
customer's answer reached the provider.

The baseline, in the same run, against the same process, with the same
generator: the same webhooks with a forged signature (403 once the form is
read and the signature checked; nothing stored). It is the floor of the HTTP
stack and the generator. Figures move by 10-20 % between runs on a shared
2-core machine: compare the ratio.

`--bot` and `--python` run another checkout's `bot.py` (an older version, for a
before/after); its own `migrate` command makes the schema.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bench.common import fresh_databases, numbers, ts
from bench.webhook_load import PATH, Load, forged, generate, phone_of, webhooks
from tests.channel_support import AUTH, PUBLIC, SID
from tests.fakes.twilio_server import FakeTwilio
from tests.sending_support import bot_environment, serving_bot

ROOT = Path(__file__).resolve().parent.parent
REP_PHONE = "+15005550100"
TWILIO_GIVES_UP = 15.0  # seconds
# Customers who write first and are answered before anything is measured: a process that has
# run for a while has its statements compiled and prepared, its connections open.
WARM_UP = 100


@dataclass(frozen=True)
class Bot:
    """The `bot.py` under test and the Python that runs it."""

    python: str
    script: str

    def migrate(self, engine: Engine) -> None:
        url = engine.url.render_as_string(hide_password=False)
        subprocess.run(
            [self.python, self.script, "migrate"],
            env={**os.environ, "AFTERCARE_DATABASE_URL": url},
            check=True,
            stdout=subprocess.DEVNULL,
        )


def seed(engine: Engine, customers: int) -> None:
    """`customers` customers of one rep, each with a periodic survey sent an hour ago."""
    now = datetime.now(UTC)
    created = ts(engine, (now - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S"))
    sent = ts(engine, (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"))
    rows = numbers(engine, customers)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO reps (id, external_id, name, phone, role, created_at, updated_at) "
                f"VALUES (1, 'rep-1', 'Rita Rep', '{REP_PHONE}', 'rep', {created}, {created})"
            )
        )
        connection.execute(
            text(
                "INSERT INTO customers (id, external_id, name, phone, telegram_link_token, language, "
                "timezone, channel, rep_id, tags, created_at, updated_at) "
                f"SELECT n, 'c' || n, 'Customer ' || n, '+1415' || (5000000 + n), 'tok' || n, 'en', "
                f"'UTC', 'sms', 1, '[]', {created}, {created} FROM {rows}"
            )
        )
        connection.execute(
            text(
                "INSERT INTO checkins (id, customer_id, kind, dedupe_key, due_at, status, channel, "
                "sent_at, created_at) "
                f"SELECT n, n, 'periodic', 'bench-' || n, {sent}, 'sent', 'sms', {sent}, {created} "
                f"FROM {rows}"
            )
        )
        if engine.dialect.name == "postgresql":
            for table, last in (("reps", 1), ("customers", customers), ("checkins", customers)):
                connection.execute(text(f"SELECT setval('{table}_id_seq', {last})"))
            # Its own tables only: a database-wide ANALYZE locks every schema's tables,
            # and deadlocks with a test run's TRUNCATE on the same server.
            connection.execute(text("ANALYZE reps, customers, checkins"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux), or NaN."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running(
    bot: Bot, database_url: str, fake: FakeTwilio, folder: Path
) -> Iterator[tuple[str, int]]:
    """`bot.py run` of `bot` on a free port, its output in a file; yields (base URL, pid)."""
    # The production defaults (INFO logs, uvicorn's access log), Twilio pointed at the fake.
    environment = bot_environment(database_url, twilio=fake, AFTERCARE_LOG_LEVEL="INFO")
    with serving_bot(environment, folder / "bot.log", command=(bot.python, bot.script)) as served:
        yield served


@contextmanager
def profiled(pid: int, output: str | None) -> Iterator[None]:
    """Sample `pid` with py-spy (PY_SPY, else `py-spy` on PATH) into `output` while inside.

    Only the thread holding the GIL is sampled: where the CPU goes, not who waits.
    """
    if not output:
        yield
        return
    py_spy = os.environ.get("PY_SPY") or shutil.which("py-spy") or "py-spy"
    kind = "raw" if output.endswith(".txt") else "flamegraph"
    spy = subprocess.Popen(
        [py_spy, "record", "-p", str(pid), "-o", output, "-f", kind, "-r", "250", "--gil"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # attached before the first request
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)


def stored(engine: Engine, sids: set[str], customers: int) -> tuple[int, int, int]:
    """(inbound messages of these sids, distinct sids among them, scores of customers 1..n)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT provider_id FROM messages WHERE direction = 'in' AND channel = 'sms'")
        ).all()
        responses = connection.execute(
            text("SELECT count(*) FROM responses WHERE customer_id <= :n"), {"n": customers}
        ).scalar_one()
    mine = [row[0] for row in rows if row[0] in sids]
    return len(mine), len(set(mine)), responses


def answers(fake: FakeTwilio, customers: set[int]) -> list[dict[str, Any]]:
    """What reached Twilio for these customers."""
    phones = {phone_of(n) for n in customers}
    return [m for m in fake.messages if m["to"] in phones]


def wait_for_answers(fake: FakeTwilio, customers: set[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while len({m["to"] for m in answers(fake, customers)}) < len(customers):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    time.sleep(1.0)  # an answer sent twice would have arrived by now
    return True


def describe(load: Load) -> str:
    ms = sorted(latency * 1000 for latency in load.latencies) or [float("nan")]
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    p90 = ms[min(len(ms) - 1, int(0.90 * len(ms)))]
    return (
        f"{load.rate:6,.0f} req/s   p50 {statistics.median(ms):6.1f}   p90 {p90:6.1f}   "
        f"p99 {p99:6.1f}   max {ms[-1]:6.1f} ms"
    )


def bench(
    kind: str, engine: Engine, bot: Bot, args: argparse.Namespace, pool: ProcessPoolExecutor
) -> bool:
    """Run the benchmark on one database, print its figures; True when everything was right."""
    rng = random.Random(20261202)
    hooks, distinct = webhooks(
        args.requests, args.repeats, rng, public_url=PUBLIC, account=SID, auth=AUTH
    )
    warm, _ = webhooks(
        WARM_UP, 0, rng, public_url=PUBLIC, account=SID, auth=AUTH, first_customer=distinct + 1
    )
    seed(engine, distinct + WARM_UP)
    url = engine.url.render_as_string(hide_password=False)
    load_args = (args.concurrency, args.rate, args.client)
    with (
        tempfile.TemporaryDirectory() as folder,
        FakeTwilio(SID, AUTH) as fake,
        running(bot, url, fake, Path(folder)) as (base, pid),
    ):
        target = f"{base}{PATH}"
        pool.submit(generate, target, forged(hooks[:300]), *load_args).result()  # warm up
        pool.submit(generate, target, warm, *load_args).result()
        if not wait_for_answers(fake, set(range(distinct + 1, distinct + WARM_UP + 1)), 120):
            raise RuntimeError("the warm-up's customers were not answered")
        cpu = cpu_seconds(pid)
        baseline = pool.submit(generate, target, forged(hooks), *load_args).result()
        baseline_cpu = cpu_seconds(pid) - cpu
        cpu, started = cpu_seconds(pid), time.time()
        with profiled(pid, args.profile):
            load = pool.submit(generate, target, hooks, *load_args).result()
            signed_cpu = cpu_seconds(pid) - cpu
            measured = set(range(1, distinct + 1))
            everyone = wait_for_answers(fake, measured, timeout=max(120.0, args.requests / 10))
        all_cpu = cpu_seconds(pid) - cpu
        answered = answers(fake, measured)
        alerts = sum(m["to"] == REP_PHONE and m["date_created"].timestamp() >= started
                     for m in fake.messages)  # fmt: skip
    rows, sids, responses = stored(engine, {hook.sid for hook in hooks}, distinct)
    per_customer = Counter(m["to"] for m in answered)
    last = max((m["date_created"] for m in answered), default=None)
    last_after = last.timestamp() - started if isinstance(last, datetime) else float("nan")
    errors = sum(n for status, n in load.statuses.items() if status != 200)
    how = f"at {args.rate:,.0f} a second" if args.rate else "as fast as they are answered"
    print(
        f"{kind}: {len(hooks):,} webhooks ({distinct:,} customers, {len(hooks) - distinct:,} "
        f"MessageSids delivered twice), {how}, over {args.concurrency} connections, "
        f"after {WARM_UP} answered to warm up"
    )
    print(
        f"  baseline, forged signature (403)  {describe(baseline)}   "
        f"bot.py CPU {baseline_cpu / len(hooks) * 1000:.2f} ms a request"
    )
    print(
        f"  signed webhooks (200)             {describe(load)}   "
        f"bot.py CPU {signed_cpu / len(hooks) * 1000:.2f} ms a webhook   "
        f"{load.rate / baseline.rate:.2f}x the baseline's rate"
    )
    print(
        f"  errors: {errors} (statuses {dict(load.statuses)}), "
        f"past Twilio's 15 s: {sum(latency > TWILIO_GIVES_UP for latency in load.latencies)}; "
        f"the generator used {load.cpu / load.seconds:.0%} of a core"
    )
    print(
        f"  stored: {rows:,} inbound messages for {sids:,} MessageSids "
        f"(of {distinct:,} sent), {responses:,} scores recorded"
    )
    print(
        f"  answered: {len(per_customer):,} of {distinct:,} customers, "
        f"{sum(n > 1 for n in per_customer.values())} of them twice, and {alerts} rep alerts; "
        f"the last answer reached Twilio {last_after:.1f} s after the first webhook "
        f"({last_after - load.seconds:.1f} s after the last one was acknowledged); bot.py CPU "
        f"{all_cpu / distinct * 1000:.1f} ms a customer, acknowledged, answered and alerted"
    )
    right = everyone and rows == sids == distinct == responses and len(per_customer) == distinct
    right = right and all(n == 1 for n in per_customer.values()) and errors == 0
    if not right:
        print("  WRONG: every MessageSid must be stored once and every customer answered once")
    return right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="webhooks (default 2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (default 32)")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="webhooks a second (default: as fast as answered)"
    )
    parser.add_argument(
        "--repeats", type=float, default=0.05, help="share delivered twice (default 0.05)"
    )
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both", help="default both"
    )
    parser.add_argument(
        "--client",
        choices=["streams", "httpx"],
        default="streams",
        help="the generator's HTTP client (default streams; see bench/webhook_load.py)",
    )
    parser.add_argument(
        "--bot", default=str(ROOT / "bot.py"), help="the bot.py to run (default this checkout's)"
    )
    parser.add_argument("--python", default=sys.executable, help="the Python that runs --bot")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="sample bot.py with py-spy from the signed webhooks to the last answer "
        "(FILE.txt: collapsed stacks, else an SVG flame graph)",
    )
    args = parser.parse_args()
    bot = Bot(args.python, args.bot)
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    right = True
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        databases = fresh_databases(kinds, schema="aftercare_bench_ingest", migrated=bot.migrate)
        for kind, engine in databases:
            right = bench(kind, engine, bot, args, pool) and right
    sys.exit(0 if right else 1)


if __name__ == "__main__":
    main()
