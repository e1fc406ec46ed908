"""Hardening, item 5: an update with a valid secret never gets a 500 (Telegram would resend it forever)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from models import CheckIn, Message, Response
from tests.channel_support import SECRET, survey_for
from tests.test_webhooks import CHAT, count, post_update

pytest_plugins = ["tests.conftest_channels"]


def post_raw(served, body: bytes) -> int:
    with httpx.Client(trust_env=False, timeout=10) as client:
        answer = client.post(
            f"{served.url}/webhooks/telegram",
            content=body,
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
    return answer.status_code


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 20_000 + b"]" * 20_000,  # nesting deeper than Python's recursion limit
        b'{"update_id": 5, "message": ' + b'{"a":' * 5000 + b"1" + b"}" * 5001,
        b'{"update_id": 99999999999999999999999999, "message": {}}',
        b"\xff\xfe not json",
    ],
    ids=["deep list", "deep update", "huge id", "not json"],
)
def test_an_unreadable_update_is_acknowledged_not_failed(telegram_app, session, body) -> None:
    assert post_raw(telegram_app, body) == 200
    assert count(session, Message) == 0


@pytest.mark.parametrize(
    "data", ["score:{id}:11", "score:{id}:-1", "score:123456789012345678901:5"]
)
def test_impossible_button_data_is_an_unreadable_reply_not_a_crash(
    telegram_app,
    fake_telegram,
    session,
    cast,
    data,
) -> None:
    anna = cast["pl"]
    anna.telegram_chat_id, anna.channel = CHAT, "telegram"
    session.commit()
    checkin = survey_for(session, anna, channel="telegram", address=str(CHAT), keyboard=True)
    checkin.status = "sent"  # waiting for a score: a valid tap would record one
    session.commit()
    tap = fake_telegram.callback_update(CHAT, data.format(id=checkin.id), message_id=1)
    assert post_update(telegram_app, fake_telegram, tap) == 200
    assert post_update(telegram_app, fake_telegram, tap) == 200  # Telegram's retry: same answer
    session.expire_all()
    assert session.scalars(select(Response)).all() == []
    assert session.get_one(CheckIn, checkin.id).status == "sent"  # still answerable
