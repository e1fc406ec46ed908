"""The real twilio and python-telegram-bot clients work against our fake servers."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import requests
import telegram
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes import LocalServer
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio

SID, AUTH = "AC" + "a" * 32, "test-auth-token"
TOKEN = "123456:TEST-token_abc"
PUBLIC = "https://aftercare.example"
CUSTOMER, OUR_NUMBER = "+48601234567", "+15005550006"


class Receiver(LocalServer):
    """Stands in for our web app: records what the fakes POST to it."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        super().__init__()

    def handle(self, method, path, query, headers, body):
        with self._cond:
            self.requests.append({"path": path, "headers": dict(headers), "body": body})
        return 200, {"Content-Type": "text/plain"}, b"ok"


@pytest.fixture
def fake_twilio():
    with FakeTwilio(SID, AUTH) as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_twilio_edge(monkeypatch):
    # An edge or region makes the client rewrite the host name and bypass the fake.
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)


@pytest.fixture
def twilio_client(fake_twilio):
    client = Client(SID, AUTH)
    client.api.base_url = fake_twilio.base_url
    return client


@pytest.fixture
def fake_telegram():
    with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(fake_telegram):
    base = fake_telegram.base_url
    async with Bot(TOKEN, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot") as bot:
        yield bot


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


# -- Twilio -------------------------------------------------------------------------


def test_twilio_client_posts_a_message_that_the_fake_records(twilio_client, fake_twilio):
    msg = twilio_client.messages.create(
        to=CUSTOMER,
        from_=OUR_NUMBER,
        body="Hi Anna, how did it go?",
        status_callback=f"{PUBLIC}/webhooks/twilio/status",
        validity_period=3600,
    )
    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert (msg.status, msg.to, msg.from_, msg.error_code) == ("queued", CUSTOMER, OUR_NUMBER, None)
    assert msg.num_segments == "1" and msg.date_created.tzinfo is not None
    [sent] = fake_twilio.messages
    assert sent["sid"] == msg.sid and sent["body"] == "Hi Anna, how did it go?"
    assert sent["status_callback"] == f"{PUBLIC}/webhooks/twilio/status"
    assert (sent["validity_period"], sent["from_"], sent["messaging_service_sid"]) == (
        3600,
        OUR_NUMBER,
        None,
    )


def test_a_messaging_service_send_starts_accepted_without_a_sender(twilio_client, fake_twilio):
    msg = twilio_client.messages.create(
        to=CUSTOMER, messaging_service_sid="MG" + "1" * 32, body="Hi"
    )
    assert (msg.status, msg.from_) == ("accepted", None)
    assert fake_twilio.messages[0]["messaging_service_sid"] == "MG" + "1" * 32


def test_a_no_break_space_turns_the_sms_into_ucs2(twilio_client, fake_twilio):
    twilio_client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="x" * 100 + "\u00a0")
    assert (fake_twilio.messages[0]["num_segments"], fake_twilio.messages[0]["encoding"]) == (
        2,
        "UCS-2",
    )


def test_a_wrong_auth_token_is_a_20003(fake_twilio):
    client = Client(SID, "wrong")
    client.api.base_url = fake_twilio.base_url
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hi")
    assert (err.value.status, err.value.code) == (401, 20003)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"to": "601234567", "from_": OUR_NUMBER, "body": "Hi"}, 21211),
        ({"to": CUSTOMER, "body": "Hi"}, 21603),
        ({"to": CUSTOMER, "from_": OUR_NUMBER, "body": ""}, 21602),
    ],
)
def test_invalid_requests_surface_twilio_error_codes(twilio_client, fake_twilio, fields, code):
    with pytest.raises(TwilioRestException) as err:
        twilio_client.messages.create(**fields)
    assert (err.value.status, err.value.code) == (400, code)
    assert fake_twilio.messages == []


def test_an_invalid_to_number_says_so(twilio_client):
    with pytest.raises(TwilioRestException) as err:
        twilio_client.messages.create(to="601234567", from_=OUR_NUMBER, body="Hi")
    assert "The 'To' number 601234567 is not a valid phone number." in err.value.msg


def test_injected_429_fails_once_then_sends(twilio_client, fake_twilio):
    fake_twilio.fail_next(status=429)
    with pytest.raises(TwilioRestException) as err:
        twilio_client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hi")
    assert (err.value.status, err.value.code) == (429, 20429)
    twilio_client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hi")
    assert len(fake_twilio.messages) == 1


def test_a_failing_number_keeps_failing_with_its_code(twilio_client, fake_twilio):
    fake_twilio.fail_number(CUSTOMER, code=21610)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as err:
            twilio_client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hi")
        assert (err.value.status, err.value.code) == (400, 21610)


def test_a_delayed_send_times_out_but_is_recorded(fake_twilio):
    client = Client(SID, AUTH, http_client=TwilioHttpClient(timeout=0.3))
    client.api.base_url = fake_twilio.base_url
    fake_twilio.delay_next(2)
    with pytest.raises(requests.exceptions.Timeout):
        client.messages.create(to=CUSTOMER, from_=OUR_NUMBER, body="Hi")
    assert [m["to"] for m in fake_twilio.messages] == [CUSTOMER]


def test_status_callback_is_signed_for_the_registered_url(twilio_client, fake_twilio, receiver):
    callback = f"{PUBLIC}/webhooks/twilio/status"
    msg = twilio_client.messages.create(
        to=CUSTOMER, from_=OUR_NUMBER, body="Hi", status_callback=callback
    )
    status = fake_twilio.send_status_callback(
        msg.sid, "undelivered", error_code=30003, url=f"{receiver.base_url}/webhooks/twilio/status"
    )
    assert status == 200
    [request] = receiver.requests
    params = dict(parse_qsl(request["body"].decode()))
    assert params["MessageSid"] == msg.sid and params["MessageStatus"] == "undelivered"
    assert params["ErrorCode"] == "30003"
    assert RequestValidator(AUTH).validate(
        callback, params, request["headers"]["X-Twilio-Signature"]
    )
    assert twilio_client.messages(msg.sid).fetch().status == "undelivered"


def test_inbound_sms_is_signed_for_the_public_url(fake_twilio, receiver):
    public = f"{PUBLIC}/webhooks/twilio/sms"
    local = f"{receiver.base_url}/webhooks/twilio/sms"
    assert fake_twilio.send_inbound_sms(
        local, CUSTOMER, OUR_NUMBER, "9 great", signature_url=public
    ) == (200, "ok")
    fake_twilio.send_inbound_sms(
        local, CUSTOMER, OUR_NUMBER, "9", signature_url=public, tamper=True
    )
    fake_twilio.send_inbound_sms(local, CUSTOMER, OUR_NUMBER, "9", sign=False)
    good, tampered, unsigned = receiver.requests
    validator = RequestValidator(AUTH)
    params = dict(parse_qsl(good["body"].decode()))
    assert (
        params["Body"] == "9 great"
        and params["From"] == CUSTOMER
        and params["MessageSid"].startswith("SM")
    )
    assert validator.validate(public, params, good["headers"]["X-Twilio-Signature"])
    assert not validator.validate(local, params, good["headers"]["X-Twilio-Signature"])
    forged = dict(parse_qsl(tampered["body"].decode()))
    assert not validator.validate(public, forged, tampered["headers"]["X-Twilio-Signature"])
    assert "X-Twilio-Signature" not in unsigned["headers"]


# -- Telegram ------------------------------------------------------------------------


async def test_get_me_reports_the_bot(bot):
    me = await bot.get_me()
    assert (me.username, me.is_bot, me.id) == ("AftercareTestBot", True, 123456)


async def test_send_message_with_buttons_is_recorded_and_echoed(bot, fake_telegram):
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(str(n), callback_data=f"score:{n}")
                                      for n in range(11)]])  # fmt: skip
    first = await bot.send_message(42, "How likely...?", reply_markup=keyboard)
    second = await bot.send_message(42, "Thanks")
    assert (first.message_id, second.message_id, first.chat.id) == (1, 2, 42)
    assert first.reply_markup.inline_keyboard[0][10].callback_data == "score:10"
    sent = fake_telegram.sent[0]
    assert (sent["method"], sent["chat_id"], sent["text"], sent["message_id"]) == (
        "sendMessage",
        42,
        "How likely...?",
        1,
    )
    assert sent["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "0",
        "callback_data": "score:0",
    }


async def test_editing_a_keyboard_away_then_again_is_not_modified(bot, fake_telegram):
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ack", callback_data="ack:1")]])
    msg = await bot.send_message(7, "Alert", reply_markup=keyboard)
    edited = await bot.edit_message_reply_markup(chat_id=7, message_id=msg.message_id)
    assert edited.reply_markup is None
    with pytest.raises(telegram.error.BadRequest, match="not modified"):
        await bot.edit_message_reply_markup(chat_id=7, message_id=msg.message_id)
    text = await bot.edit_message_text("Alert (acknowledged)", chat_id=7, message_id=msg.message_id)
    assert text.text == "Alert (acknowledged)"
    assert [s["method"] for s in fake_telegram.sent] == [
        "sendMessage",
        "editMessageReplyMarkup",
        "editMessageText",
    ]


async def test_callback_queries_can_be_answered_once_issued(bot, fake_telegram):
    update = fake_telegram.callback_update(42, "score:9", message_id=1)
    assert await bot.answer_callback_query(update["callback_query"]["id"], text="Thanks!")
    with pytest.raises(telegram.error.BadRequest, match="query id is invalid"):
        await bot.answer_callback_query("999")


async def test_get_updates_returns_queued_updates_and_honours_offsets(bot, fake_telegram):
    sent = await bot.send_message(42, "Rate us", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("9", callback_data="score:9")]]))  # fmt: skip
    for update in (
        fake_telegram.text_update(42, "/start tok123", first_name="Anna", language_code="pl"),
        fake_telegram.callback_update(42, "score:9", message_id=sent.message_id),
        fake_telegram.contact_update(42, "48601234567", first_name="Anna"),
    ):
        fake_telegram.queue_update(update)
    start, tap, contact = await bot.get_updates(timeout=0)
    assert isinstance(start, Update) and start.message.text == "/start tok123"
    assert (
        start.message.entities[0].type == "bot_command"
        and start.message.from_user.language_code == "pl"
    )
    assert tap.callback_query.data == "score:9"
    assert tap.callback_query.message.reply_markup.inline_keyboard[0][0].text == "9"
    assert (contact.message.contact.phone_number, contact.message.contact.user_id) == (
        "48601234567",
        42,
    )
    assert start.update_id < tap.update_id < contact.update_id
    assert await bot.get_updates(offset=contact.update_id + 1, timeout=0) == ()


async def test_a_long_poll_wakes_when_an_update_arrives(bot, fake_telegram):
    update = fake_telegram.text_update(5, "10")
    threading.Timer(0.2, fake_telegram.queue_update, args=[update]).start()
    [got] = await asyncio.wait_for(bot.get_updates(timeout=5), timeout=3)
    assert got.message.text == "10"


@pytest.mark.parametrize(
    ("inject", "error", "text"),
    [
        ("block_chat", telegram.error.Forbidden, "bot was blocked by the user"),
        ("deactivate_chat", telegram.error.Forbidden, "user is deactivated"),
        ("missing_chat", telegram.error.BadRequest, "chat not found"),
    ],
)
async def test_chat_errors_raise_the_ptb_exceptions(bot, fake_telegram, inject, error, text):
    getattr(fake_telegram, inject)(42)
    with pytest.raises(error) as err:
        await bot.send_message(42, "Hi")
    assert text in str(err.value).lower()
    fake_telegram.clear_chat(42)
    await bot.send_message(42, "Hi again")


async def test_rate_limit_raises_retry_after(bot, fake_telegram, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # opt in to PTB's future type, without the warning
    fake_telegram.rate_limit_next(retry_after=1)
    with pytest.raises(telegram.error.RetryAfter) as err:
        await bot.send_message(42, "Hi")
    assert err.value.retry_after == dt.timedelta(seconds=1)
    await bot.send_message(42, "Hi")


async def test_wrong_token_and_unknown_method(fake_telegram, bot):
    base = fake_telegram.base_url
    with pytest.raises(telegram.error.InvalidToken):
        await Bot("123456:wrong", base_url=f"{base}/bot").get_me()
    with pytest.raises(telegram.error.EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_webhook_settings_are_recorded_and_block_polling(bot, fake_telegram):
    with pytest.raises(telegram.error.BadRequest, match="(?i)https url"):
        await bot.set_webhook("http://insecure.example/hook")
    assert await bot.set_webhook(f"{PUBLIC}/webhooks/telegram", secret_token="s3cret_-")
    assert fake_telegram.webhook == {
        "url": f"{PUBLIC}/webhooks/telegram",
        "secret_token": "s3cret_-",
    }
    assert (await bot.get_webhook_info()).url == f"{PUBLIC}/webhooks/telegram"
    with pytest.raises(telegram.error.Conflict):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    assert await bot.set_my_commands([("start", "Link your chat")])
    assert await bot.send_chat_action(42, "typing")
    assert fake_telegram.commands == [{"command": "start", "description": "Link your chat"}]
    assert [name for name, _ in fake_telegram.calls][-3:] == [
        "deleteWebhook",
        "setMyCommands",
        "sendChatAction",
    ]


async def test_post_update_delivers_json_with_the_secret_header(fake_telegram, receiver):
    update = fake_telegram.text_update(42, "8")
    status, _ = await asyncio.to_thread(
        fake_telegram.post_update, f"{receiver.base_url}/webhooks/telegram", update, secret="s3cret"
    )
    assert status == 200
    [request] = receiver.requests
    assert request["headers"]["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
    assert httpx.Response(200, content=request["body"]).json() == update


def test_json_form_and_multipart_bodies_decode_alike(fake_telegram):
    url = f"{fake_telegram.base_url}/bot{TOKEN}/sendMessage"
    markup = '{"inline_keyboard": [[{"text": "1", "callback_data": "score:1"}]]}'
    with httpx.Client(trust_env=False) as client:
        client.post(url, json={"chat_id": "9", "text": "42", "reply_markup": json.loads(markup)})
        client.post(url, data={"chat_id": "9", "text": "42", "reply_markup": markup})
        client.post(url, data={"chat_id": "9", "text": "42"}, files={"doc": ("a.txt", b"x")})
    sent = fake_telegram.sent
    assert [(s["chat_id"], s["text"], s["message_id"]) for s in sent] == [
        (9, "42", n) for n in (1, 2, 3)
    ]
    assert sent[0]["reply_markup"] == sent[1]["reply_markup"] == json.loads(markup)
    assert fake_telegram.calls[2][1]["doc"] == b"x"


async def test_a_second_poller_terminates_the_first(bot, fake_telegram):
    # Two `bot.py run` processes long-polling one token: Telegram cuts the older poll.
    base = fake_telegram.base_url
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    async with Bot(TOKEN, base_url=f"{base}/bot") as other:
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(telegram.error.Conflict, match="(?i)terminated by other getupdates"):
        await asyncio.wait_for(first, timeout=3)


async def test_the_bot_cannot_edit_what_the_user_wrote(bot, fake_telegram):
    update = fake_telegram.text_update(3, "hello")
    with pytest.raises(telegram.error.BadRequest, match="(?i)can't be edited"):
        await bot.edit_message_text("x", chat_id=3, message_id=update["message"]["message_id"])
    with pytest.raises(telegram.error.BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=3, message_id=99)
