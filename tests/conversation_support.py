"""The customers' side of the conversation, for tests: write to the bot, read its answers."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session, sessionmaker

from conversation.inbound import Inbound, Receipt, receive
from messaging.channels import ConsoleChannel, console_only
from messaging.outbox import drain
from models import CheckIn, Customer
from settings import Settings
from tests.conftest import at

REVIEW_URL = "https://g.page/r/kowalski/review"
REFERRAL_URL = "https://kowalski.example/refer"
SETTINGS = Settings(
    business_name="Kowalski Motors",
    default_tz="UTC",
    review_url=REVIEW_URL,
    referral_url=REFERRAL_URL,
)
JOHN = "+14155550101"
AGNIESZKA = "+48601234567"


class Phone:
    """The customers' side: write to the bot, then read what came back at that same instant."""

    def __init__(self, db: sessionmaker[Session], console: ConsoleChannel) -> None:
        self.db, self.console = db, console
        self._ids = itertools.count(1)

    def say(
        self,
        address: str,
        text: str,
        when: str,
        *,
        channel: str = "sms",
        provider_id: str | None = None,
        button: tuple[int, int] | None = None,
        name: str = "",
        language: str = "",
    ) -> Receipt:
        now = at(when)
        inbound = Inbound(
            channel=channel,
            address=address,
            text=text,
            provider_id=provider_id or f"in-{next(self._ids)}",
            received_at=now,
            button_score=button,
            sender_name=name,
            sender_language=language,
        )
        with self.db.begin() as session:
            receipt = receive(session, now, inbound, SETTINGS)
        # Draining at the same instant proves the answer goes at once, quiet hours or not.
        drain(self.db, now, console_only(self.console), settings=Settings())
        return receipt

    def received(self, address: str) -> list[str]:
        return self.console.to(address)


def sent_survey(
    session: Session,
    customer: Customer,
    *,
    sent: str = "2026-03-02 15:00",
    kind: str = "post_delivery",
    channel: str = "sms",
) -> CheckIn:
    checkin = CheckIn(
        customer_id=customer.id,
        kind=kind,
        dedupe_key=f"test:{sent}",
        due_at=at(sent),
        status="sent",
        sent_at=at(sent),
        channel=channel,
    )
    session.add(checkin)
    session.commit()
    return checkin
