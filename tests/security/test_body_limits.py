"""Hardening, item 1: bodies are capped before anything parses them (413, nothing stored)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from models import InboundEvent, Message
from tests.channel_support import channel_settings, webhook_app
from web.limits import SMALL_LIMIT


def huge_form(size: int) -> dict[str, str]:
    return {"MessageSid": "SM1", "From": "+14155550101", "Body": "x" * size}


def nothing_stored(session) -> bool:
    session.expire_all()
    messages = session.scalar(select(func.count(Message.id)))
    events = session.scalar(select(func.count(InboundEvent.id)))
    return messages == 0 and events == 0


def test_a_huge_unsigned_webhook_is_refused_before_it_is_parsed(db, session) -> None:
    app = webhook_app(db, channel_settings(twilio_account_sid="AC" + "a" * 32))
    with TestClient(app) as client:
        answer = client.post("/webhooks/twilio/sms", data=huge_form(300 * 1024))
    assert answer.status_code == 413
    assert nothing_stored(session)


def test_a_chunked_body_that_never_says_its_length_is_cut_off_too(db, session) -> None:
    # A token and a (forged) signature are there, so the handler gets as far as reading.
    settings = channel_settings(twilio_account_sid="AC" + "a" * 32, twilio_auth_token="t")
    app = webhook_app(db, settings)

    def chunks() -> Iterator[bytes]:
        yield b"MessageSid=SM1&From=%2B14155550101&Body="
        for _ in range(100):
            yield b"y" * 4096  # 400 KB in all, no Content-Length

    with TestClient(app) as client:
        answer = client.post(
            "/webhooks/twilio/sms",
            content=chunks(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "forged",
            },
        )
    assert answer.status_code == 413
    assert nothing_stored(session)


def test_the_login_form_is_capped_and_a_normal_webhook_is_not(db, session) -> None:
    from tests.test_admin import make_app

    app, _ = make_app(db)
    with TestClient(app) as client:
        big = client.post("/admin/login", data={"username": "a" * (SMALL_LIMIT + 1)})
        assert big.status_code == 413
        assert client.post("/admin/login", data={"username": "admin"}).status_code != 413
    with TestClient(webhook_app(db, channel_settings())) as client:
        unsigned = client.post("/webhooks/twilio/sms", data=huge_form(100))
        assert unsigned.status_code == 403  # small: read, and refused for its signature
