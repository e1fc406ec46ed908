"""Helpers for the provider-channel tests: settings pointing at the fakes, surveys, a served app.

The fixtures live in tests/conftest_channels.py, loaded by the modules that need them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from messaging.channels import Transports
from messaging.channels.network import NETWORK
from messaging.compose import score_buttons
from messaging.outbox import drain, queue_message
from models import CheckIn, Customer, Message
from settings import Settings
from tests.conftest import at
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from web.app import create_app
from web.lifespans import inbox_hook as inbox_running
from web.lifespans import lifespan_hook
from web.webhooks import webhooks_router

SID, AUTH = "AC" + "a" * 32, "test-auth-token"
OUR_NUMBER = "+15005550006"
SERVICE_SID = "MG" + "1" * 32
TOKEN = "123456:TEST-token_abc"
PUBLIC = "https://aftercare.example"
SECRET = "s3cret_-webhook"
NOW = at("2026-03-02 15:00")


def channel_settings(
    twilio: FakeTwilio | None = None, telegram: FakeTelegram | None = None, **overrides: Any
) -> Settings:
    """Settings for the given fakes (only those channels are configured), plus `overrides`."""
    values: dict[str, Any] = {
        "database_url": "sqlite://",
        "public_url": PUBLIC,
        "business_name": "Kowalski Motors",
    }
    if twilio is not None:
        values |= {
            "twilio_account_sid": SID,
            "twilio_auth_token": AUTH,
            "twilio_from_number": OUR_NUMBER,
            "twilio_api_base_url": twilio.base_url,
        }
    if telegram is not None:
        values |= {"telegram_bot_token": TOKEN, "telegram_api_base_url": telegram.base_url}
    return Settings(**(values | overrides))


def survey_for(
    session: Session, customer: Customer, *, channel: str, address: str, keyboard: bool = False
) -> CheckIn:
    """A periodic check-in handed to the outbox, as dispatch does, with its survey message."""
    checkin = CheckIn(
        customer_id=customer.id,
        kind="periodic",
        dedupe_key=f"test-{channel}-{address}",
        due_at=NOW,
        status="queued",
        channel=channel,
    )
    session.add(checkin)
    session.flush()
    queue_message(
        session,
        now=NOW,
        channel=channel,
        address=address,
        body=f"Hi {customer.first_name}, how likely are you to recommend Kowalski Motors? Reply 0-10",
        purpose="survey",
        customer_id=customer.id,
        checkin_id=checkin.id,
        buttons=score_buttons(checkin.id) if keyboard else None,
    )
    session.commit()
    return checkin


def messages(session: Session, **where: Any) -> list[Message]:
    session.expire_all()
    return list(session.scalars(select(Message).filter_by(**where).order_by(Message.id)))


def drain_now(db: sessionmaker[Session], transports: Transports, now: Any = NOW) -> Any:
    return drain(db, now, transports, settings=Settings())


def later(seconds: float) -> Any:
    return NOW + timedelta(seconds=seconds)


# -- the web app, served for real so the fakes can POST to it --------------------------


def webhook_app(
    db: sessionmaker[Session], settings: Settings, transports: Transports | None = None
) -> FastAPI:
    """The app as `run` builds it, minus the scheduler and the sender: webhooks, and the bot when
    configured. Inbound SMS wait in the inbox until a test calls `take_turns`."""
    transports = transports or Transports()
    app = create_app(
        db,
        settings,
        extra_routers=[webhooks_router()],
        lifespan_hooks=[
            inbox_running(db, settings, take_turns=False),
            lifespan_hook(transports, db, settings),
        ],
    )
    app.state.transports = transports
    return app


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run `app` with uvicorn on a free 127.0.0.1 port in a thread; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def send(channel: Any, to: str, text: str, buttons: Any = None) -> Any:
    """`channel.send` from a test's thread, on the network loop (where `drain` sends too)."""
    return NETWORK.call(channel.send(to, text, buttons), timeout=30)


def wait_until(predicate: Any, timeout: float = 5.0) -> Any:
    """Poll `predicate` until it is truthy (for work done on another thread)."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)
    return result
