"""Alert latency under `run`: a detractor's SMS in, the rep's alert out at the provider, within 60 s.

The process is built as `bot.py run` builds it (cli.running.build_app: web app,
webhooks, the scheduler thread and the sender, woken by the commit that queues
the alert) and served by uvicorn on 127.0.0.1. The customer's reply comes in through the signed Twilio
webhook, and the clock stops when the fake Twilio accepts the alert to the rep.
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from cli.running import build_app
from clock import utcnow
from messaging.channels import Transports
from messaging.channels.sms import SmsChannel
from models import CheckIn, Escalation
from tests.channel_support import OUR_NUMBER, PUBLIC, channel_settings, serving, wait_until

pytest_plugins = ["tests.conftest_channels"]

BOUND_SECONDS = 60  # the promise; in practice the send itself (the commit wakes the sender)
JOHN = "+14155550101"
ANNA = "+48600000002"  # John's rep


def test_a_detractors_reply_reaches_the_rep_within_a_minute_under_run(
    db, session, cast, fake_twilio
) -> None:
    john = cast["en"]
    sent = utcnow() - timedelta(minutes=5)
    session.add(
        CheckIn(
            customer_id=john.id,
            kind="post_delivery",
            dedupe_key="latency",
            due_at=sent,
            status="sent",
            sent_at=sent,
            channel="sms",
        )
    )
    session.commit()
    settings = channel_settings(twilio=fake_twilio)
    transports = Transports(by_channel={"sms": SmsChannel(settings)})

    with serving(build_app(db, transports, settings)) as url:
        started = time.monotonic()
        status, _ = fake_twilio.send_inbound_sms(
            f"{url}/webhooks/twilio/sms",
            JOHN,
            OUR_NUMBER,
            "2 - the car broke down on the way home",
            signature_url=f"{PUBLIC}/webhooks/twilio/sms",
        )
        assert status == 200
        [alert] = wait_until(
            lambda: [m for m in fake_twilio.messages if m["to"] == ANNA], timeout=BOUND_SECONDS
        )
        latency = time.monotonic() - started

    print(f"\nalert latency under run: {latency:.2f} s (bound {BOUND_SECONDS} s)")
    assert latency < BOUND_SECONDS
    assert "John Smith needs you: score 2/10" in alert["body"]
    assert "ACK 1" in alert["body"]
    session.expire_all()
    [escalation] = session.scalars(select(Escalation)).all()
    assert escalation.alerted_at is not None and escalation.rep_id == cast["rep"].id
