"""The send path under load: two lanes, concurrency, shared budgets, leases, shutdown.

In-process tests run the real sender on the network loop with the real twilio
client against the fake Twilio (which answers after a delay, like the real API);
the multi-process ones start `bot.py` processes against the same fakes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from conversation.inbound import Inbound, receive
from messaging.channels import Transports
from messaging.channels.network import NETWORK
from messaging.channels.sms import SmsChannel
from messaging.outbox import Sender
from messaging.outbox.claims import claim
from models import CheckIn, Message
from settings import Settings
from tests.channel_support import channel_settings
from tests.sending_support import NOW, due_surveys, phone_of, queued_surveys

pytest_plugins = ["tests.conftest_channels"]

JOHN = "+14155550101"
ANNA = "+48600000002"  # John's rep


@contextmanager
def sender_running(
    db: sessionmaker[Session], transports: Transports, settings: Settings
) -> Iterator[Sender]:
    """The sender as `run` runs it (both lanes, until stopped), on the network loop."""

    async def start() -> tuple[Sender, asyncio.Task[None]]:
        sender = Sender(db, transports, settings)
        return sender, asyncio.create_task(sender.run())

    sender, task = NETWORK.call(start())
    try:
        yield sender
    finally:
        NETWORK.call(sender.shutdown(task), timeout=60)
        sender.close()
        NETWORK.call(transports.aclose())


def a_sent_survey(session: Session, customer_id: int) -> None:
    sent = utcnow()
    session.add(
        CheckIn(
            customer_id=customer_id,
            kind="post_delivery",
            dedupe_key="answered-during-bulk",
            due_at=sent,
            status="sent",
            sent_at=sent,
            channel="sms",
        )
    )
    session.commit()


def test_a_reply_during_a_bulk_is_answered_and_the_rep_alerted_while_the_bulk_goes_on(
    db, session, cast, fake_twilio
) -> None:
    a_sent_survey(session, cast["en"].id)
    bulk = due_surveys(db, 300)
    queued_surveys(db, bulk)
    bulk_phones = {phone_of(n) for n in range(300)}
    fake_twilio.latency = 0.05  # 4 in flight: about 80 surveys a second, so ~4 s of bulk
    settings = channel_settings(twilio=fake_twilio, sends_in_flight=4)
    transports = Transports(by_channel={"sms": SmsChannel(settings)})

    with sender_running(db, transports, settings):
        fake_twilio.wait_for(lambda: len(fake_twilio.messages) >= 40, timeout=30)
        when = utcnow()
        inbound = Inbound("sms", JOHN, "2 - the car broke down on the way home", "SMreply", when)
        with db.begin() as webhook:
            receive(webhook, when, inbound, settings)
        replied_at = len(fake_twilio.messages)
        fake_twilio.wait_for(
            lambda: {JOHN, ANNA} <= {m["to"] for m in fake_twilio.messages}, timeout=30
        )
        fake_twilio.wait_for(lambda: len(fake_twilio.messages) >= 302, timeout=60)

    sent_to = [m["to"] for m in fake_twilio.messages]
    answered, alerted = sent_to.index(JOHN), sent_to.index(ANNA)
    # Both went out among the next few sends (those already in flight), not after the bulk:
    assert max(answered, alerted) - replied_at < 20
    assert len([to for to in sent_to[max(answered, alerted) :] if to in bulk_phones]) > 150
    assert fake_twilio.messages[answered]["body"].startswith("Thank you for taking the time")
    assert "John Smith needs you: score 2/10" in fake_twilio.messages[alerted]["body"]
    # and the bulk, all of it, exactly once
    assert sorted(to for to in sent_to if to in bulk_phones) == sorted(bulk_phones)
    lanes = dict(
        session.execute(
            select(Message.purpose, Message.lane).where(Message.direction == "out")
        ).all()
    )
    assert lanes["survey"] == "bulk" and lanes["thanks"] == lanes["rep_alert"] == "interactive"


def test_a_claim_takes_no_more_than_it_asked_for(db) -> None:
    # Regression: `WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` let PostgreSQL
    # run the subquery again per row, and one claim of 8 took all 200.
    queued_surveys(db, due_surveys(db, 200))
    now = utcnow()
    with db.begin() as session:
        first = claim(
            session, lane="bulk", now=NOW, worker="a", limit=8, claimed_at=now, lease_until=now
        )
    with db.begin() as session:
        second = claim(
            session, lane="bulk", now=NOW, worker="b", limit=8, claimed_at=now, lease_until=now
        )
    assert len(first) == len(second) == 8
    assert not {m.id for m in first} & {m.id for m in second}
    assert [m.id for m in first] == sorted(m.id for m in first)  # oldest first


def test_a_claim_belongs_to_its_transaction_and_rolls_back_with_it(db, session) -> None:
    # Regression: on SQLite a claim written `WITH ... UPDATE` ran outside the transaction
    # (pysqlite begins one only before INSERT/UPDATE/DELETE), so a process killed between
    # a dispatch batch's claim and its commit left check-ins "queued" with no message.
    from cadence.rules import DEFAULT_RULES
    from scheduler.dispatch import claim_due
    from scheduler.planner import plan

    due_surveys(db, 5)
    with db.begin() as planning:
        plan(planning, NOW, DEFAULT_RULES, "UTC")
    queued_surveys(db, due_surveys_ids := [c.customer_id for c in session.scalars(select(CheckIn))])
    assert due_surveys_ids
    for take in (
        lambda s: claim_due(s, NOW, 10),
        lambda s: claim(
            s, lane="bulk", now=NOW, worker="w", limit=10, claimed_at=utcnow(), lease_until=utcnow()
        ),
    ):
        with pytest.raises(RuntimeError), db.begin() as doomed:
            assert take(doomed)
            raise RuntimeError("the process dies before the batch commits")
    session.expire_all()
    statuses = {
        c.status for c in session.scalars(select(CheckIn).where(CheckIn.kind == "post_delivery"))
    }
    assert statuses == {"scheduled"}
    assert {m.status for m in session.scalars(select(Message))} == {"queued"}
