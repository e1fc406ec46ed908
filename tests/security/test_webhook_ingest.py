"""Hardening, item 7: a burst of signed SMS webhooks at once, Twilio retrying some of them,
is stored once per MessageSid and every customer is answered once.

Against a real `bot.py run` (uvicorn, the inbox worker, the sender) and the fake
Twilio. Nothing here is timed: `python -m bench.webhook_ingest` measures.
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, insert, select

from clock import utcnow
from models import CheckIn, Customer, Message, Response
from tests.channel_support import OUR_NUMBER, PUBLIC
from tests.fakes.twilio_server import FakeTwilio, new_sid
from tests.sending_support import bot_environment, phone_of, serving_bot

pytest_plugins = ["tests.conftest_channels"]

CUSTOMERS = 120
REPEATS = 30  # MessageSids Twilio delivers a second time


def waiting_for_scores(db, count: int) -> None:
    """`count` customers (no purchases: `run`'s own pass plans nothing for them), each with a
    survey that went out an hour ago and waits for a score."""
    sent = utcnow() - timedelta(hours=1)
    with db.begin() as work:
        work.execute(insert(Customer), [
            {"external_id": f"c{n}", "name": f"Customer {n}", "phone": phone_of(n),
             "telegram_link_token": f"tok{n}", "timezone": "UTC", "tags": []} for n in range(count)
        ])  # fmt: skip
        ids = work.scalars(select(Customer.id).order_by(Customer.id)).all()
        work.execute(insert(CheckIn), [
            {"customer_id": c, "kind": "periodic", "dedupe_key": f"burst-{c}", "due_at": sent,
             "status": "sent", "sent_at": sent, "channel": "sms"} for c in ids
        ])  # fmt: skip


def deliver(fake: FakeTwilio, url: str, sender: str, text: str, sid: str) -> int:
    status, _ = fake.send_inbound_sms(f"{url}/webhooks/twilio/sms", sender, OUR_NUMBER, text,
                                      message_sid=sid, signature_url=f"{PUBLIC}/webhooks/twilio/sms")  # fmt: skip
    return status


def test_a_burst_of_signed_webhooks_is_stored_once_and_every_customer_answered_once(
    db, session, database_url, fake_twilio, tmp_path
) -> None:
    waiting_for_scores(db, CUSTOMERS)
    rng = random.Random(7)
    deliveries = [(phone_of(n), str(rng.randint(7, 10)), new_sid("SM")) for n in range(CUSTOMERS)]
    deliveries += rng.sample(deliveries, REPEATS)
    rng.shuffle(deliveries)

    environment = bot_environment(database_url, twilio=fake_twilio)
    with serving_bot(environment, tmp_path / "run.log") as (url, _):
        with ThreadPoolExecutor(16) as twilio:  # Twilio delivers many at once
            statuses = list(twilio.map(lambda d: deliver(fake_twilio, url, *d), deliveries))
        fake_twilio.wait_for(
            lambda: len({m["to"] for m in fake_twilio.messages}) == CUSTOMERS, timeout=120
        )
    # Stopped (SIGTERM: the sender finished what it had): a second answer would be there now.

    assert statuses == [200] * (CUSTOMERS + REPEATS)
    answered = Counter(m["to"] for m in fake_twilio.messages)
    assert answered == Counter({phone_of(n): 1 for n in range(CUSTOMERS)})
    session.expire_all()
    inbound = session.scalars(select(Message.provider_id).where(Message.direction == "in")).all()
    assert sorted(inbound) == sorted({sid for _, _, sid in deliveries})
    assert session.scalar(select(func.count(Response.id))) == CUSTOMERS
    waiting = select(func.count(Message.id)).where(
        Message.direction == "in", Message.processed_at.is_(None)
    )
    assert session.scalar(waiting) == 0
