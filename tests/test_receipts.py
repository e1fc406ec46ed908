"""Delivery receipts that overtake the outbox: kept once, applied when the id lands, tidied."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from clock import utcnow
from conversation.provider_events import record_delivery
from messaging.channels import Transports
from messaging.outbox import drain
from messaging.outbox.claims import claim
from messaging.outbox.record import Outcome, OutcomeKind, record
from messaging.receipts import EARLY_KEPT_FOR, Receipt, keep_early
from models import EarlyReceipt
from settings import Settings
from tests.channel_support import wait_until
from tests.conftest import at
from tests.test_outbox import NOW, LookingUpChannel, lost_claim, queued, stored


def early_receipts(db) -> list[tuple[str, str]]:
    with db() as session:
        return [(r.provider_id, r.status) for r in session.scalars(select(EarlyReceipt))]


def test_a_receipt_whose_sid_never_lands_is_tidied_after_a_day(db) -> None:
    with db.begin() as session:
        keep_early(session, at("2026-03-01 09:00"), Receipt("sms", "SMlost", "delivered"))
    with db.begin() as session:  # within the day: both kept
        keep_early(session, at("2026-03-01 20:00"), Receipt("sms", "SMlate", "sent"))
    assert len(early_receipts(db)) == 2
    with db.begin() as session:
        later = at("2026-03-01 09:00") + EARLY_KEPT_FOR + timedelta(seconds=1)
        keep_early(session, later, Receipt("sms", "SMnext", "delivered"))
    assert sorted(early_receipts(db)) == [("SMlate", "sent"), ("SMnext", "delivered")]


def test_a_lost_claim_found_at_the_provider_takes_the_receipts_that_came_meanwhile(
    db, cast
) -> None:
    # The send timed out, Twilio delivered it and said so; reconciliation finds the SID later.
    channel = LookingUpChannel(has={("+14155550101", "Hi John"): "SMfound"})
    message_id = queued(db, cast["en"])
    lost_claim(db, message_id)
    with db.begin() as session:
        keep_early(session, NOW, Receipt("sms", "SMfound", "delivered"))
        keep_early(session, NOW, Receipt("sms", "SMother", "delivered"))

    drain(db, NOW, Transports(by_channel={"sms": channel}), settings=Settings())

    found = stored(db, message_id)
    assert (found.status, found.provider_id, found.delivered_at) == ("delivered", "SMfound", NOW)
    assert early_receipts(db) == [("SMother", "delivered")]  # someone else's: still waiting


def test_a_receipt_kept_while_the_outbox_records_its_sid_is_not_lost(db, engine, cast) -> None:
    # The outbox has written the SID but not committed; the receipt comes in between. One of
    # the two must see the other, or the receipt would wait forever for an id already there.
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns: the receipt waits for the outbox's commit")
    message_id = queued(db, cast["en"])
    with db.begin() as claiming:
        [claimed] = claim(
            claiming, lane="bulk", now=NOW, worker="w1", limit=1,
            claimed_at=utcnow(), lease_until=utcnow() + timedelta(minutes=1),
        )  # fmt: skip
    outbox = db()
    outbox.begin()
    record(outbox, NOW, utcnow(), "w1", [Outcome(claimed, OutcomeKind.SENT, "SMrace")], "UTC")

    with ThreadPoolExecutor(1) as pool:

        def webhook() -> str:
            with db.begin() as session:
                return record_delivery(session, NOW, Receipt("sms", "SMrace", "delivered"))

        answer = pool.submit(webhook)
        with engine.connect() as watcher:  # the webhook waits for the outbox's transaction
            wait_until(
                lambda: watcher.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            )
        outbox.commit()
        outbox.close()
        assert answer.result(timeout=10) == "recorded"

    assert stored(db, message_id).status == "delivered"
    assert early_receipts(db) == []
