"""The Telegram channel and bot: real python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, select, text
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from clock import utcnow
from conversation.linking import link_by_phone, link_by_token, normalise_phone
from conversation.telegram_bot import POLL_LEASE, TelegramBot, translate
from messaging.channels import Button, ConsoleChannel, SendError, Transports
from messaging.channels.network import NETWORK
from messaging.channels.telegram import TelegramChannel, keyboard, send_error
from messaging.outbox import drain
from models import CheckIn, Customer, FailedTelegramUpdate, Lease
from tests.channel_support import (
    NOW,
    SECRET,
    TOKEN,
    channel_settings,
    drain_now,
    later,
    messages,
    send,
    survey_for,
)

CHAT = 424242

# The fake providers, settings for them and a served app (not autouse: only these modules).
pytest_plugins = ["tests.conftest_channels"]


@pytest.fixture
def transports(telegram_channel) -> Transports:
    return Transports(
        by_channel={"telegram": telegram_channel}, fallback=ConsoleChannel(stream=None)
    )


def on_telegram(session, customer: Customer, chat_id: int = CHAT) -> Customer:
    customer.telegram_chat_id, customer.channel = chat_id, "telegram"
    session.commit()
    return customer


# -- sending ---------------------------------------------------------------------------


def test_a_survey_arrives_in_the_chat_with_a_0_to_10_keyboard(
    db, session, cast, transports, fake_telegram
) -> None:
    anna = on_telegram(session, cast["pl"])
    checkin = survey_for(session, anna, channel="telegram", address=str(CHAT), keyboard=True)

    assert drain_now(db, transports)["sent"] == 1

    [sent] = fake_telegram.sent
    assert (sent["method"], sent["chat_id"]) == ("sendMessage", CHAT)
    assert sent["text"].startswith("Hi Agnieszka, how likely")
    rows = sent["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [
        [str(n) for n in range(6)],
        [str(n) for n in range(6, 11)],
    ]
    assert rows[1][4] == {"text": "10", "callback_data": f"score:{checkin.id}:10"}
    [message] = messages(session, direction="out")
    assert (message.status, message.provider_id) == ("sent", f"{CHAT}:{sent['message_id']}")
    assert session.get_one(CheckIn, checkin.id).status == "sent"


def test_link_buttons_open_their_url() -> None:
    markup = keyboard(
        [[Button("Review us", url="https://g.page/r/x"), Button("9", data="score:1:9")]]
    )
    [[link, score]] = markup.inline_keyboard
    assert (link.url, link.callback_data, score.callback_data) == (
        "https://g.page/r/x",
        None,
        "score:1:9",
    )
    assert keyboard(None) is None and keyboard([]) is None


@pytest.mark.parametrize("inject", ["block_chat", "deactivate_chat", "missing_chat"])
def test_an_unreachable_chat_is_marked_at_once_and_the_survey_goes_by_sms(
    inject, db, session, cast, fake_telegram, telegram_channel, fake_twilio, sms
) -> None:
    john = on_telegram(session, cast["en"])
    getattr(fake_telegram, inject)(CHAT)
    checkin = survey_for(session, john, channel="telegram", address=str(CHAT))
    transports = Transports(by_channel={"telegram": telegram_channel, "sms": sms})

    report = drain_now(db, transports)

    # The next batch of the same pass already carries the SMS.
    assert (report["unreachable"], report["sent"]) == (1, 1)
    session.expire_all()
    assert session.get_one(Customer, john.id).telegram_unreachable_at == NOW
    assert drain_now(db, transports, later(3600)).total == 0
    assert len([c for c in fake_telegram.calls if c[0] == "sendMessage"]) == 1  # no retries
    [texted] = fake_twilio.messages
    assert texted["to"] == john.phone and texted["body"].startswith("Hi John")
    dead, resent = messages(session, direction="out")
    assert (dead.channel, dead.status, resent.channel, resent.status) == (
        "telegram",
        "failed",
        "sms",
        "sent",
    )
    assert resent.checkin_id == checkin.id
    assert session.get_one(CheckIn, checkin.id).channel == "sms"


def test_a_429_pauses_the_bot_until_telegram_says(
    db, session, cast, transports, telegram_channel, fake_telegram, monkeypatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB's future type, without its deprecation warning
    anna = on_telegram(session, cast["pl"])
    fake_telegram.rate_limit_next(retry_after=1, method="sendMessage")
    survey_for(session, anna, channel="telegram", address=str(CHAT))

    assert drain_now(db, transports)["retry"] == 1
    [message] = messages(session, direction="out")
    assert (message.status, message.next_attempt_at, message.error_code) == (
        "queued",
        NOW + timedelta(seconds=1),
        "429",
    )

    # Within the pause (real time, shared through the database) Telegram is not asked:
    # the message is given back, and the attempt does not count.
    assert drain_now(db, transports, later(1))["released"] == 1
    assert [name for name, _ in fake_telegram.calls].count("sendMessage") == 1
    time.sleep(1.05)
    assert drain_now(db, transports, later(5))["sent"] == 1
    [message] = messages(session, direction="out")
    assert message.attempts == 2
    assert [s["text"][:8] for s in fake_telegram.sent] == ["Hi Agnie"]


@pytest.mark.parametrize(
    ("error", "cause", "expected"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), None, (True, True, False)),
        (Forbidden("Forbidden: user is deactivated"), None, (True, True, False)),
        (BadRequest("Bad Request: chat not found"), None, (True, True, False)),
        (BadRequest("Bad Request: message is too long"), None, (True, False, False)),
        (TimedOut(), httpx.ReadTimeout("read"), (False, False, True)),
        (TimedOut(), httpx.ConnectTimeout("connect"), (False, False, False)),
        (TimedOut("Pool timeout"), httpx.PoolTimeout("pool"), (False, False, False)),
        (
            NetworkError("httpx.ConnectError: refused"),
            httpx.ConnectError("refused"),
            (False, False, False),
        ),
        (NetworkError("httpx.ReadError: reset"), httpx.ReadError("reset"), (False, False, True)),
        (NetworkError("Bad Gateway (502)"), None, (False, False, False)),
    ],
)
def test_telegram_errors_are_classified_for_the_outbox(error, cause, expected) -> None:
    error.__cause__ = cause
    classified = send_error(error)
    assert (classified.permanent, classified.unreachable, classified.uncertain) == expected


def test_the_token_stays_out_of_errors_and_logs(fake_telegram, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    channel = TelegramChannel(
        channel_settings(telegram=fake_telegram, telegram_bot_token="999:wrong-token")
    )
    try:
        with pytest.raises(SendError) as error:
            send(channel, str(CHAT), "Hi")
    finally:
        NETWORK.call(channel.aclose())
    assert not error.value.permanent  # ours to fix: the messages wait for the right token
    assert "999:wrong-token" not in str(error.value) and "<token>" in str(error.value)
    assert "wrong-token" not in caplog.text
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


def test_concurrent_first_sends_share_one_bot_initialised_once(
    telegram_channel, fake_telegram
) -> None:
    async def three_at_once() -> list[str]:
        results = await asyncio.gather(
            *(telegram_channel.send(str(chat), "Hi") for chat in (1, 2, 3))
        )
        return [r.provider_id for r in results]

    assert NETWORK.call(three_at_once()) == ["1:1", "2:1", "3:1"]
    assert [name for name, _ in fake_telegram.calls].count("getMe") == 1


def test_the_limits_are_telegrams_per_bot_and_per_chat(telegram_channel) -> None:
    bot, chat = telegram_channel.limits("42")
    assert (bot.key, bot.per_second) == ("telegram:123456", 30.0)
    assert chat.key == "telegram-chat:123456:42"


# -- translating updates ---------------------------------------------------------------


def update(data: dict) -> Update:
    return Update.de_json(data, None)


def test_updates_are_translated_into_our_words(fake_telegram) -> None:
    text = translate(
        update(fake_telegram.text_update(CHAT, "9 great", first_name="Anna", language_code="pl"))
    )
    assert (text.kind, text.text, text.chat_id, text.sender_name, text.sender_language) == (
        "text", "9 great", CHAT, "Anna", "pl",
    )  # fmt: skip
    inbound = text.inbound(NOW)
    assert (inbound.channel, inbound.address, inbound.provider_id) == (
        "telegram",
        str(CHAT),
        f"tg:{text.update_id}",
    )

    start = translate(update(fake_telegram.text_update(CHAT, "/start tok_EN-123")))
    assert (start.kind, start.token) == ("start_token", "tok_EN-123")
    assert (
        translate(update(fake_telegram.text_update(CHAT, "/stop@AftercareTestBot"))).text == "/stop"
    )
    assert translate(update(fake_telegram.text_update(CHAT, "/help"))).text == "/help"

    sent = fake_telegram.callback_update(CHAT, "score:17:9", message_id=3)
    assert translate(update(sent)).button_score == (17, 9)
    assert (
        translate(update(fake_telegram.callback_update(CHAT, "ack:12", message_id=3))).text
        == "/ack 12"
    )
    assert (
        translate(update(fake_telegram.callback_update(CHAT, "resolve:12", message_id=3))).text
        == "/resolve 12"
    )
    assert translate(update(fake_telegram.callback_update(CHAT, "nonsense", message_id=3))) is None

    own = translate(update(fake_telegram.contact_update(CHAT, "48601234567")))
    assert (own.kind, own.phone) == ("contact", "48601234567")
    # Someone else's contact card proves nothing about this chat.
    assert translate(update(fake_telegram.contact_update(CHAT, "48601234567", user_id=77))) is None


def test_group_chats_and_empty_messages_are_ignored(fake_telegram) -> None:
    group = fake_telegram.text_update(CHAT, "10")
    group["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Staff"}
    assert translate(update(group)) is None
    sticker = fake_telegram.text_update(CHAT, "x")
    del sticker["message"]["text"]
    assert translate(update(sticker)) is None


# -- linking ---------------------------------------------------------------------------


SETTINGS = channel_settings()


def test_a_deep_link_token_links_the_chat_and_greets_by_name(session, cast) -> None:
    anna = cast["pl"]
    result = link_by_token(session, CHAT, anna.telegram_link_token, NOW, SETTINGS)
    session.commit()

    assert result.linked and result.customer_id == anna.id
    session.refresh(anna)
    assert (anna.telegram_chat_id, anna.channel) == (CHAT, "telegram")
    [greeting] = messages(session, direction="out")
    assert (greeting.purpose, greeting.channel, greeting.address) == (
        "telegram_greeting",
        "telegram",
        str(CHAT),
    )
    assert "Agnieszka" in greeting.body


def test_an_unknown_token_links_nobody(session, cast) -> None:
    assert link_by_token(session, CHAT, "no-such-token", NOW, SETTINGS).outcome == "unknown_token"
    assert link_by_token(session, CHAT, "", NOW, SETTINGS).outcome == "unknown_token"
    assert messages(session) == []


def test_linking_moves_a_chat_from_another_customer_and_clears_unreachable(session, cast) -> None:
    john, anna = cast["en"], cast["pl"]
    john.telegram_chat_id = CHAT
    anna.telegram_unreachable_at = NOW - timedelta(days=3)
    session.commit()

    assert link_by_token(session, CHAT, anna.telegram_link_token, NOW, SETTINGS).linked
    session.commit()
    session.refresh(john), session.refresh(anna)
    assert (john.telegram_chat_id, anna.telegram_chat_id, anna.telegram_unreachable_at) == (
        None,
        CHAT,
        None,
    )


def test_an_opted_out_customer_is_linked_but_not_greeted(session, cast) -> None:
    anna = cast["pl"]
    anna.opted_out_at = NOW - timedelta(days=1)
    session.commit()
    result = link_by_token(session, CHAT, anna.telegram_link_token, NOW, SETTINGS)
    assert result.linked and result.opted_out
    assert messages(session) == []


def test_a_shared_phone_number_links_the_one_customer_who_has_it(session, cast) -> None:
    anna = cast["pl"]
    assert link_by_phone(session, CHAT, "48601234567", NOW, SETTINGS).customer_id == anna.id
    assert link_by_phone(session, CHAT + 1, "+1 000", NOW, SETTINGS).outcome == "unknown_phone"
    assert link_by_phone(session, CHAT + 1, "14155550199", NOW, SETTINGS).outcome == "unknown_phone"
    cast["en"].phone = anna.phone  # a household sharing one number
    session.flush()
    assert (
        link_by_phone(session, CHAT + 2, "48601234567", NOW, SETTINGS).outcome == "ambiguous_phone"
    )


@pytest.mark.parametrize(
    ("shared", "e164"),
    [("48601234567", "+48601234567"), ("+48 601 234 567", "+48601234567"), ("380501234567", "+380501234567"),
     ("123", None), ("", None)],
)  # fmt: skip
def test_phone_numbers_are_normalised_like_the_customer_list(shared, e164) -> None:
    assert normalise_phone(shared) == e164


# -- the bot: polling with a lease, webhook registration ---------------------------------


async def wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not (result := await asyncio.to_thread(predicate)):
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)
    return result


def quick_bot(channel: TelegramChannel, db, settings, **kwargs) -> TelegramBot:
    return TelegramBot(channel, db, settings, poll_timeout=1, retry_seconds=0.1, **kwargs)


async def test_without_a_secret_the_bot_polls_and_a_deep_link_links_and_greets(
    db, session, cast, telegram_channel, fake_telegram
) -> None:
    settings = channel_settings(telegram=fake_telegram)
    anna = cast["pl"]
    usernames: list[str] = []
    transports = Transports(by_channel={"telegram": telegram_channel})
    # As in `run`: this loop owns the network, so the outbox sends with the bot's client.
    async with (
        transports.served_here(),
        quick_bot(telegram_channel, db, settings, on_username=usernames.append).running() as bot,
    ):
        await asyncio.to_thread(bot.ready.wait, 5)
        assert bot.polling and usernames == ["AftercareTestBot"]
        fake_telegram.queue_update(
            fake_telegram.text_update(CHAT, f"/start {anna.telegram_link_token}")
        )

        def linked() -> bool:
            session.expire_all()
            return session.get_one(Customer, anna.id).telegram_chat_id == CHAT

        await wait_for(linked)
        # The update was handled when it arrived, on the real clock.
        report = await asyncio.to_thread(drain, db, utcnow(), transports, settings=settings)
    assert report["sent"] == 1
    greeting = fake_telegram.sent[-1]
    assert greeting["chat_id"] == CHAT and "Agnieszka" in greeting["text"]


async def test_only_the_lease_holder_polls(db, session, fake_telegram) -> None:
    settings = channel_settings(telegram=fake_telegram)
    first_channel, second_channel = TelegramChannel(settings), TelegramChannel(settings)
    first = quick_bot(first_channel, db, settings, lease_ttl=timedelta(seconds=30))
    second = quick_bot(second_channel, db, settings, lease_ttl=timedelta(seconds=30))
    async with first.running():
        await asyncio.to_thread(first.ready.wait, 5)
        async with second.running():
            await asyncio.sleep(0.5)
            assert first.polling and not second.polling
            holder = await asyncio.to_thread(
                lambda: session.scalar(select(Lease.holder).where(Lease.name == POLL_LEASE))
            )
            assert holder == first.holder
        # The first one stops: the lease is released and a waiting process may take over.
    async with second.running():
        await asyncio.to_thread(second.ready.wait, 5)
        assert second.polling
    await first_channel.aclose()
    await second_channel.aclose()


async def test_with_a_secret_the_webhook_is_registered_instead_of_polling(
    db, telegram_channel, fake_telegram
) -> None:
    settings = channel_settings(telegram=fake_telegram, telegram_webhook_secret=SECRET)
    async with quick_bot(telegram_channel, db, settings).running() as bot:
        assert await asyncio.to_thread(bot.ready.wait, 5)
        assert not bot.polling
    assert fake_telegram.webhook == {
        "url": "https://aftercare.example/webhooks/telegram",
        "secret_token": SECRET,
    }
    assert "getUpdates" not in [name for name, _ in fake_telegram.calls]
    assert TOKEN not in repr(fake_telegram.webhook)
    await telegram_channel.aclose()


@contextmanager
def database_refuses(engine: Engine, update_id: int) -> Iterator[None]:
    """The database refuses to record one update (as a full disk or a bad row would)."""
    key = str(update_id)
    if engine.dialect.name == "sqlite":
        create = [
            "CREATE TRIGGER refuse_update BEFORE INSERT ON inbound_events"
            f" WHEN NEW.key = '{key}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        ]
        drop = ["DROP TRIGGER refuse_update"]
    else:
        create = [
            "CREATE FUNCTION refuse_update() RETURNS trigger AS $$ BEGIN"
            f" IF NEW.key = '{key}' THEN RAISE EXCEPTION 'refused by the test'; END IF;"
            " RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_update BEFORE INSERT ON inbound_events"
            " FOR EACH ROW EXECUTE FUNCTION refuse_update()",
        ]
        drop = ["DROP TRIGGER refuse_update ON inbound_events", "DROP FUNCTION refuse_update()"]
    with engine.begin() as connection:
        for statement in create:
            connection.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as connection:
            for statement in drop:
                connection.execute(text(statement))


async def test_an_update_that_fails_five_times_is_kept_for_an_admin_and_polling_goes_on(
    db, engine, session, cast, telegram_channel, fake_telegram
) -> None:
    settings = channel_settings(telegram=fake_telegram)
    anna = cast["pl"]
    refused = fake_telegram.text_update(CHAT, "9, thank you")
    with database_refuses(engine, refused["update_id"]):
        async with quick_bot(telegram_channel, db, settings).running() as bot:
            await asyncio.to_thread(bot.ready.wait, 5)
            fake_telegram.queue_update(refused)
            fake_telegram.queue_update(
                fake_telegram.text_update(CHAT, f"/start {anna.telegram_link_token}")
            )

            def linked() -> bool:  # the update after the refused one is handled
                session.expire_all()
                return session.get_one(Customer, anna.id).telegram_chat_id == CHAT

            await wait_for(linked)

    [kept] = session.scalars(select(FailedTelegramUpdate)).all()
    assert (kept.update_id, kept.attempts) == (refused["update_id"], 5)
    assert kept.payload["message"]["text"] == "9, thank you"
    assert "refused by the test" in kept.error and TOKEN not in kept.error
    assert kept.failed_at is not None
