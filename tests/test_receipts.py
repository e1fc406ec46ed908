"""Delivery receipts that overtake the outbox: kept once, applied when the id lands, tidied."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from messaging.channels import Transports
from messaging.outbox import drain
from messaging.receipts import EARLY_KEPT_FOR, Receipt, keep_early
from models import EarlyReceipt
from settings import Settings
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
