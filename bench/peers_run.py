"""`bot.py run` beside the peers of ../shared/bench/peers.py: one production process, real clock.

peers.py times a command from its start until its fake Twilio holds N messages.
`tick --now` can be measured as it is; `run` never ends and plans with the real
clock, so this helper gives it due work and an end:

    setup   import PEERS_RECIPIENTS as customers whose purchases were delivered two days
            ago, in a time zone where it is now midday (so no quiet hours), so the first
            pass of `run` owes each of them a survey;
    serve   start `bot.py run`, wait until the database shows N surveys sent, then stop
            it with SIGTERM (as systemd would) and exit with its code.

    python3 ../shared/bench/peers.py --n 2000 --latency-ms 150 \\
      --modes celery-redis,pg-skip-locked-aiohttp \\
      --extra-setup run='.venv/bin/python -m bench.peers_run setup' \\
      --extra run='.venv/bin/python -m bench.peers_run serve'
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from models import Message
from models.db import make_engine, session_factory

ROOT = Path(__file__).resolve().parent.parent


def midday_zone(now: datetime) -> str:
    """An IANA zone where it is about noon at `now` (Etc/GMT-k is UTC+k)."""
    offset = 12 - now.hour
    offset = offset - 24 if offset > 14 else offset
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def setup() -> None:
    now = datetime.now(UTC)
    zone = midday_zone(now)
    delivered = (now - timedelta(days=2, hours=1)).isoformat()
    with open(os.environ["PEERS_RECIPIENTS"], newline="") as source:
        recipients = list(csv.DictReader(source))
    with tempfile.TemporaryDirectory() as folder:
        files = {
            "reps": [
                ["external_id", "name", "phone", "telegram_chat_id", "role", "manager_external_id"],
                ["rep-1", "Rita Rep", "+15005550100", "", "rep", ""],
            ],
            "customers": [
                ["external_id", "name", "phone", "telegram_chat_id", "language", "timezone"]
                + ["channel", "rep_external_id", "tags"],
                *(
                    [f"c{n}", r["name"], r["phone"], "", r["language"], zone, "sms", "rep-1", ""]
                    for n, r in enumerate(recipients)
                ),
            ],
            "purchases": [
                ["external_id", "customer_external_id", "product", "category", "purchased_at"]
                + ["promised_delivery_date", "delivered_at", "rep_external_id"],
                *(
                    [f"p{n}", f"c{n}", "Kettle", "appliance", delivered, "", delivered, "rep-1"]
                    for n in range(len(recipients))
                ),
            ],
        }
        for kind, rows in files.items():
            path = Path(folder) / f"{kind}.csv"
            with path.open("w", newline="") as target:
                csv.writer(target).writerows(rows)
            subprocess.run(
                [sys.executable, str(ROOT / "bot.py"), "import", kind, str(path)],
                check=True,
                stdout=subprocess.DEVNULL,
            )


def serve() -> int:
    wanted = int(os.environ["PEERS_N"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py"), "run", "--port", str(port)],
        env={**os.environ, "AFTERCARE_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
    )
    factory = session_factory(make_engine(os.environ["AFTERCARE_DATABASE_URL"]))
    sent = select(func.count(Message.id)).where(
        Message.purpose == "survey", Message.status == "sent"
    )
    try:
        while server.poll() is None:
            time.sleep(0.2)
            with factory() as session:
                if (session.scalar(sent) or 0) >= wanted:
                    break
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
    return server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["setup", "serve"])
    step = parser.parse_args().step
    if step == "setup":
        setup()
    else:
        sys.exit(serve())


if __name__ == "__main__":
    main()
