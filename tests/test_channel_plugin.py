"""A channel is one module plus one registry entry: a new one works end to end with nothing else.

"pigeon" is registered here the way docs/ARCHITECTURE.md's checklist says (its class,
with its webhook, and an entry in messaging/channels/registry.py). The survey, the
reply (POSTed to its webhook, which the app mounts from the registry), the follow-up
and the escalation then go through it, without the scheduler, the conversation, the
escalation or the web code knowing its name.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conversation.inbound import Inbound
from conversation.inbox import take_turns
from messaging.channels import ConsoleChannel, Transports
from messaging.channels.base import Buttons, Limit, SendResult
from messaging.channels.registry import CHANNELS, ChannelEntry
from messaging.channels.webhooks import HookRequest, Refused, Webhook
from messaging.outbox import drain
from models import CheckIn, Escalation, Message
from scheduler.tick import tick
from settings import Settings
from tests.conftest import at
from tests.test_tick import SETTINGS, deliver
from web.app import create_app
from web.webhooks import webhooks_router

PIGEON_KEY = "coo-coo"


def read_pigeon(request: HookRequest, settings: Settings) -> Inbound:
    """The pigeon loft's webhook: a key proves the loft sent it, the JSON carries the note."""
    if request.headers.get("X-Pigeon-Key") != PIGEON_KEY:
        raise Refused("bad key")
    note = json.loads(request.body)
    return Inbound("pigeon", note["from"], note["text"], note["id"], at("2026-03-02 16:00"))


class PigeonChannel:
    """The whole of a new channel (a real one would call its provider)."""

    name = "pigeon"
    can_look_up = False
    shows_buttons = False
    webhooks = (Webhook("/webhooks/pigeon", read_pigeon),)

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def connect(self) -> None:
        return None

    def limits(self, to: str) -> tuple[Limit, ...]:
        return ()

    async def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        self.sent.append((to, text))
        return SendResult(provider_id=f"pigeon-{len(self.sent)}")

    async def look_up(self, to: str, text: str, since: datetime) -> list[str]:
        return []

    async def aclose(self) -> None:
        return None


@pytest.fixture
def pigeon(monkeypatch: pytest.MonkeyPatch) -> PigeonChannel:
    entry = ChannelEntry(
        lambda: PigeonChannel,
        address_of=lambda person: getattr(person, "phone", None) or None,
        shows_buttons=False,
        contact_fields=("phone",),
        column="phone",
        parse_address=lambda address: address or None,
        sender="pigeon",
        configured=lambda settings: True,
        variables="PIGEON_KEY",
    )
    monkeypatch.setitem(CHANNELS, "pigeon", entry)
    return PigeonChannel()


def test_survey_reply_follow_up_and_escalation_go_through_a_new_channel(
    db, session, cast, pigeon: PigeonChannel
) -> None:
    john = cast["en"]
    john.channel = "pigeon"
    session.commit()
    console = ConsoleChannel(stream=None)
    transports = Transports(by_channel={"pigeon": pigeon}, fallback=console)
    deliver(session, john, product="Skoda Octavia", category="car", delivered="2026-03-01 14:00")

    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)
    [(to, survey)] = pigeon.sent
    assert to == john.phone and "John" in survey

    now = at("2026-03-02 16:00")
    note = {"from": john.phone, "text": "3 the seat squeaks", "id": "pigeon-in-1"}
    app = create_app(db, SETTINGS, extra_routers=[webhooks_router()])
    with TestClient(app) as client:
        assert client.post("/webhooks/pigeon", json=note).status_code == 403  # no key
        answer = client.post("/webhooks/pigeon", json=note, headers={"X-Pigeon-Key": PIGEON_KEY})
        assert answer.status_code == 200
    assert take_turns(db, SETTINGS)["done"] == 1  # the inbox takes its turn
    drain(db, now, transports, settings=SETTINGS)

    assert len(pigeon.sent) == 2  # the follow-up question, on the customer's channel
    session.expire_all()
    [checkin] = session.scalars(select(CheckIn).where(CheckIn.customer_id == john.id))
    assert checkin.status == "answered"
    [escalation] = session.scalars(select(Escalation).where(Escalation.customer_id == john.id))
    assert escalation.status == "open"
    alert = session.scalars(select(Message).where(Message.purpose == "rep_alert")).one()
    assert alert.status == "sent" and alert.address == cast["rep"].phone
