"""The webhooks, end to end: the fakes POST to the app served by uvicorn on 127.0.0.1.

Twilio signs for AFTERCARE_PUBLIC_URL, never for the address the app listens on
(behind a TLS-terminating proxy those differ); a request that does not prove it
comes from the provider gets 403 and leaves no trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from cli.running import build_app
from clock import utcnow
from conversation.inbox import take_turns
from conversation.telegram_bot import TelegramBot
from messaging.channels import Transports
from messaging.channels.sms import EMPTY_TWIML
from messaging.outbox import drain
from messaging.outbox.claims import claim
from messaging.outbox.record import Outcome, OutcomeKind, record
from models import CheckIn, Customer, EarlyReceipt, InboundEvent, Message, Response
from settings import Settings
from tests.channel_support import (
    AUTH,
    NOW,
    OUR_NUMBER,
    PUBLIC,
    SECRET,
    channel_settings,
    messages,
    send,
    serving,
    survey_for,
    wait_until,
    webhook_app,
)

CHAT = 515151

# The fake providers, settings for them and a served app (not autouse: only these modules).
pytest_plugins = ["tests.conftest_channels"]


@dataclass
class Served:
    url: str
    app: FastAPI
    transports: Transports

    def drain(self, db) -> dict[str, int]:
        return dict(drain(db, utcnow(), self.transports, settings=Settings()).outcomes)

    def take_turns(self, db) -> dict[str, int]:
        """What `run`'s inbox worker does after the webhook has answered: act on what was stored."""
        return dict(take_turns(db, self.app.state.settings))


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def twilio_app(db, fake_twilio, sms) -> Iterator[Served]:
    transports = Transports(by_channel={"sms": sms})
    app = webhook_app(db, channel_settings(twilio=fake_twilio), transports)
    with serving(app) as url:
        yield Served(url, app, transports)


@pytest.fixture
def telegram_app(db, fake_telegram, telegram_channel) -> Iterator[Served]:
    transports = Transports(by_channel={"telegram": telegram_channel})
    settings = channel_settings(telegram=fake_telegram, telegram_webhook_secret=SECRET)
    app = webhook_app(db, settings, transports)
    with serving(app) as url:
        bot: TelegramBot = app.state.telegram_bot
        assert bot.ready.wait(5)
        yield Served(url, app, transports)


# -- Twilio: inbound SMS ---------------------------------------------------------------


def test_a_signed_reply_scores_the_survey_and_gets_empty_twiml(
    db, session, cast, twilio_app, fake_twilio
) -> None:
    john = cast["en"]
    checkin = survey_for(session, john, channel="sms", address=john.phone)
    assert twilio_app.drain(db)["sent"] == 1

    url = f"{twilio_app.url}/webhooks/twilio/sms"
    status, body = fake_twilio.send_inbound_sms(url, john.phone, OUR_NUMBER, "9 great service",
                                                signature_url=f"{PUBLIC}/webhooks/twilio/sms")  # fmt: skip
    assert (status, body) == (200, EMPTY_TWIML)

    assert twilio_app.take_turns(db) == {"done": 1}
    session.expire_all()
    [response] = session.scalars(select(Response)).all()
    assert (response.checkin_id, response.score, response.channel) == (checkin.id, 9, "sms")
    [inbound] = messages(session, direction="in")
    assert (inbound.channel, inbound.address, inbound.body) == (
        "sms",
        john.phone,
        "9 great service",
    )
    # The thanks goes out through the outbox, by SMS, like everything else.
    assert twilio_app.drain(db)["sent"] == 1
    assert fake_twilio.messages[-1]["to"] == john.phone


def test_the_answer_is_text_xml(cast, twilio_app, fake_twilio) -> None:
    params = {
        "MessageSid": "SM" + "c" * 32,
        "From": cast["en"].phone,
        "To": OUR_NUMBER,
        "Body": "8",
    }
    signature = RequestValidator(AUTH).compute_signature(f"{PUBLIC}/webhooks/twilio/sms", params)
    with httpx.Client(trust_env=False) as client:
        answer = client.post(f"{twilio_app.url}/webhooks/twilio/sms", data=params,
                             headers={"X-Twilio-Signature": signature})  # fmt: skip
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    assert answer.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.mark.parametrize(
    "forgery",
    [
        {"tamper": True},  # the body changed after signing
        {"sign": False},  # no X-Twilio-Signature at all (the validator would raise)
        {"signature_url": "https://evil.example/webhooks/twilio/sms"},
        {"signature_url": None},  # signed for where the app listens, not the public URL
    ],
)
def test_a_request_twilio_did_not_sign_is_refused_and_stores_nothing(
    forgery, db, session, cast, twilio_app, fake_twilio
) -> None:
    url = f"{twilio_app.url}/webhooks/twilio/sms"
    kwargs = {"signature_url": f"{PUBLIC}/webhooks/twilio/sms", **forgery}
    status, _ = fake_twilio.send_inbound_sms(url, cast["en"].phone, OUR_NUMBER, "10", **kwargs)
    assert status == 403
    assert count(session, Message) == 0 and count(session, InboundEvent) == 0


def test_without_an_auth_token_every_twilio_request_is_refused(
    db, session, cast, fake_twilio
) -> None:
    # Never fail open: a deployment that forgot TWILIO_AUTH_TOKEN accepts nothing.
    app = webhook_app(db, channel_settings(twilio_account_sid="AC" + "a" * 32))
    with serving(app) as base:
        for path in ("sms", "status"):
            status, _ = fake_twilio.send_inbound_sms(f"{base}/webhooks/twilio/{path}", cast["en"].phone,
                                                     OUR_NUMBER, "10", signature_url=f"{PUBLIC}/webhooks/twilio/{path}")  # fmt: skip
            assert status == 403
    assert count(session, Message) == 0


@pytest.mark.parametrize(
    ("public_url", "signed_for"),
    [
        ("https://aftercare.example", "https://aftercare.example"),
        ("https://aftercare.example/", "https://aftercare.example"),  # a trailing slash is ignored
        ("https://aftercare.example", "https://aftercare.example:443"),  # Twilio may add the port
        ("https://aftercare.example:8443", "https://aftercare.example:8443"),
        ("http://aftercare.example", "http://aftercare.example"),
        ("LOCAL", "LOCAL"),  # no proxy: the public URL is where the app listens
    ],
)
def test_signatures_are_checked_against_the_public_url(
    public_url, signed_for, db, session, cast, twilio_app, fake_twilio
) -> None:
    public_url, signed_for = (
        value.replace("LOCAL", twilio_app.url) for value in (public_url, signed_for)
    )
    twilio_app.app.state.settings = channel_settings(twilio=fake_twilio, public_url=public_url)

    status, _ = fake_twilio.send_inbound_sms(f"{twilio_app.url}/webhooks/twilio/sms", cast["en"].phone,
                                             OUR_NUMBER, "7", signature_url=f"{signed_for}/webhooks/twilio/sms")  # fmt: skip

    assert status == 200
    assert count(session, Message, Message.direction == "in") == 1


def test_the_same_message_sid_three_times_at_once_is_processed_once(
    db, session, cast, twilio_app, fake_twilio
) -> None:
    john = cast["en"]
    checkin = survey_for(session, john, channel="sms", address=john.phone)
    twilio_app.drain(db)
    sid = "SM" + "d" * 32

    def post() -> int:
        return fake_twilio.send_inbound_sms(f"{twilio_app.url}/webhooks/twilio/sms", john.phone, OUR_NUMBER,
                                            "3 it broke", message_sid=sid,
                                            signature_url=f"{PUBLIC}/webhooks/twilio/sms")[0]  # fmt: skip

    with ThreadPoolExecutor(3) as pool:
        statuses = list(pool.map(lambda _: post(), range(3)))

    assert statuses == [200, 200, 200]
    assert count(session, Message, Message.provider_id == sid) == 1
    assert twilio_app.take_turns(db) == {"done": 1}  # one turn taken, not three
    [response] = session.scalars(select(Response)).all()
    assert (response.checkin_id, response.score) == (checkin.id, 3)
    twilio_app.drain(db)
    to_john = [m for m in fake_twilio.messages if m["to"] == john.phone]
    assert len(to_john) == 2  # the survey, then one follow-up question (not three)


# -- Twilio: status callbacks ------------------------------------------------------------


def test_status_callbacks_record_delivery(db, session, cast, twilio_app, fake_twilio) -> None:
    john = cast["en"]
    survey_for(session, john, channel="sms", address=john.phone)
    twilio_app.drain(db)
    [sent] = fake_twilio.messages
    target = f"{twilio_app.url}/webhooks/twilio/status"

    assert fake_twilio.send_status_callback(sent["sid"], "delivered", url=target) == 200
    assert (
        fake_twilio.send_status_callback(sent["sid"], "sent", url=target) == 200
    )  # late, out of order

    [message] = messages(session, direction="out")
    assert message.status == "delivered" and message.delivered_at is not None


def test_a_receipt_that_overtakes_the_send_is_kept_and_counts_once_the_sid_is_recorded(
    db, session, cast, twilio_app, fake_twilio
) -> None:
    # Twilio reports delivery before it has even answered the send: the webhook cannot wait
    # for the outbox to record the SID (the outbox is waiting for Twilio's answer).
    john = cast["en"]
    checkin = survey_for(session, john, channel="sms", address=john.phone)
    fake_twilio.overtaking_report = ("undelivered", f"{twilio_app.url}/webhooks/twilio/status")

    twilio_app.drain(db)

    assert fake_twilio.overtaking_answers == [200]
    [message] = messages(session, direction="out")
    assert (message.status, message.provider_id) == ("undelivered", fake_twilio.messages[0]["sid"])
    assert session.get_one(CheckIn, checkin.id).status == "failed"  # as for an ordinary receipt
    assert count(session, EarlyReceipt) == 0  # applied, then forgotten


def test_a_receipt_for_an_unrecorded_sid_is_stored_at_once_and_applied_when_the_sid_lands(
    db, session, cast, twilio_app, fake_twilio, sms
) -> None:
    john = cast["en"]
    survey_for(session, john, channel="sms", address=john.phone)
    with db.begin() as claiming:
        [claimed] = claim(
            claiming, lane="bulk", now=NOW, worker="w1", limit=1,
            claimed_at=utcnow(), lease_until=utcnow() + timedelta(minutes=1),
        )  # fmt: skip
    sid = send(sms, john.phone, claimed.body).provider_id
    target = f"{twilio_app.url}/webhooks/twilio/status"

    for _ in range(2):  # the same receipt twice is kept once
        assert fake_twilio.send_status_callback(sid, "delivered", url=target) == 200

    # Answered with the message still unknown by that SID: nothing waited for the outbox.
    [message] = messages(session, direction="out")
    assert (message.status, message.provider_id) == ("sending", None)
    [early] = session.scalars(select(EarlyReceipt)).all()
    assert (early.channel, early.provider_id, early.status) == ("sms", sid, "delivered")
    received_at = early.received_at

    with db.begin() as recording:  # what the sender does with the send's answer
        record(recording, NOW, utcnow(), "w1", [Outcome(claimed, OutcomeKind.SENT, sid)], "UTC")

    [message] = messages(session, direction="out")
    assert (message.status, message.provider_id) == ("delivered", sid)
    assert message.delivered_at == received_at  # when the receipt came
    assert count(session, EarlyReceipt) == 0


def test_an_undelivered_survey_shows_on_the_check_in(
    db, session, cast, twilio_app, fake_twilio
) -> None:
    john = cast["en"]
    checkin = survey_for(session, john, channel="sms", address=john.phone)
    twilio_app.drain(db)
    [sent] = fake_twilio.messages
    target = f"{twilio_app.url}/webhooks/twilio/status"

    for _ in range(2):  # a repeat changes nothing
        assert (
            fake_twilio.send_status_callback(
                sent["sid"], "undelivered", error_code=30003, url=target
            )
            == 200
        )

    [message] = messages(session, direction="out")
    assert (message.status, message.error_code) == ("undelivered", "30003")
    failed = session.get_one(CheckIn, checkin.id)
    assert failed.status == "failed" and "30003" in failed.error and "unreachable" in failed.error


def test_an_unsigned_status_callback_changes_nothing(
    db, session, cast, twilio_app, fake_twilio
) -> None:
    john = cast["en"]
    survey_for(session, john, channel="sms", address=john.phone)
    twilio_app.drain(db)
    [sent] = fake_twilio.messages
    forged = fake_twilio.send_status_callback(
        sent["sid"], "failed", url=f"{twilio_app.url}/webhooks/twilio/status",
        signature_url=f"{twilio_app.url}/webhooks/twilio/status",
    )  # fmt: skip
    assert forged == 403
    assert messages(session, direction="out")[0].status == "sent"


# -- Telegram ------------------------------------------------------------------------------


def post_update(served: Served, fake, update: dict, secret: str | None = SECRET) -> int:
    return fake.post_update(f"{served.url}/webhooks/telegram", update, secret=secret)[0]


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
def test_a_wrong_or_missing_secret_is_refused_and_stores_nothing(
    secret, session, cast, telegram_app, fake_telegram
) -> None:
    update = fake_telegram.text_update(CHAT, f"/start {cast['en'].telegram_link_token}")
    assert post_update(telegram_app, fake_telegram, update, secret=secret) == 403
    assert count(session, InboundEvent) == 0 and count(session, Message) == 0
    assert session.get_one(Customer, cast["en"].id).telegram_chat_id is None


def test_without_a_configured_secret_the_telegram_webhook_accepts_nothing(
    db, session, fake_telegram
) -> None:
    app = webhook_app(db, channel_settings())
    with serving(app) as url:
        served = Served(url, app, Transports())
        for secret in (None, ""):
            assert (
                post_update(served, fake_telegram, fake_telegram.text_update(CHAT, "hi"), secret)
                == 403
            )
    assert count(session, InboundEvent) == 0


def test_a_deep_link_start_links_the_chat_and_greets_by_name(
    db, session, cast, telegram_app, fake_telegram
) -> None:
    olena = cast["uk"]
    update = fake_telegram.text_update(
        CHAT, f"/start {olena.telegram_link_token}", first_name="Olena"
    )

    assert post_update(telegram_app, fake_telegram, update) == 200

    session.expire_all()
    assert session.get_one(Customer, olena.id).telegram_chat_id == CHAT
    assert telegram_app.drain(db)["sent"] == 1
    [greeting] = fake_telegram.sent
    assert greeting["chat_id"] == CHAT and "Олена" in greeting["text"]


def test_sharing_a_contact_links_by_phone(db, session, cast, telegram_app, fake_telegram) -> None:
    dmitry = cast["ru"]
    update = fake_telegram.contact_update(CHAT, dmitry.phone.lstrip("+"))

    assert post_update(telegram_app, fake_telegram, update) == 200

    session.expire_all()
    assert session.get_one(Customer, dmitry.id).telegram_chat_id == CHAT
    assert telegram_app.drain(db)["sent"] == 1
    assert "Дмитрий" in fake_telegram.sent[0]["text"]


def test_the_same_update_three_times_at_once_is_processed_once(
    db, session, cast, telegram_app, fake_telegram
) -> None:
    anna = cast["pl"]
    anna.telegram_chat_id = CHAT
    session.commit()
    update = fake_telegram.text_update(CHAT, "Kiedy przyjedzie serwisant?")

    with ThreadPoolExecutor(3) as pool:
        statuses = list(
            pool.map(lambda _: post_update(telegram_app, fake_telegram, update), range(3))
        )

    assert statuses == [200, 200, 200]
    assert count(session, InboundEvent) == 1
    assert count(session, Message, Message.direction == "in") == 1


def test_a_score_button_records_the_score_and_the_keyboard_goes_away(
    db, session, cast, telegram_app, fake_telegram
) -> None:
    anna = cast["pl"]
    anna.telegram_chat_id, anna.channel = CHAT, "telegram"
    session.commit()
    checkin = survey_for(session, anna, channel="telegram", address=str(CHAT), keyboard=True)
    assert telegram_app.drain(db)["sent"] == 1
    message_id = fake_telegram.sent[0]["message_id"]

    tap = fake_telegram.callback_update(CHAT, f"score:{checkin.id}:10", message_id=message_id)
    assert post_update(telegram_app, fake_telegram, tap) == 200

    session.expire_all()
    [response] = session.scalars(select(Response)).all()
    assert (response.checkin_id, response.score, response.channel) == (checkin.id, 10, "telegram")
    methods = [s["method"] for s in fake_telegram.sent]
    assert methods == ["sendMessage", "answerCallbackQuery", "editMessageReplyMarkup"]
    assert (
        fake_telegram.sent[2]["message_id"] == message_id
        and not fake_telegram.sent[2]["reply_markup"]
    )

    # A stale second tap (say, from another device) records nothing new.
    again = fake_telegram.callback_update(CHAT, f"score:{checkin.id}:3", message_id=message_id)
    assert post_update(telegram_app, fake_telegram, again) == 200
    assert [r.score for r in session.scalars(select(Response))] == [10]


def test_stop_by_telegram_stops_sms_too(db, session, cast, telegram_app, fake_telegram) -> None:
    anna = cast["pl"]
    anna.telegram_chat_id = CHAT
    session.commit()
    checkin = survey_for(session, anna, channel="sms", address=anna.phone)  # queued, not yet sent

    assert post_update(telegram_app, fake_telegram, fake_telegram.text_update(CHAT, "/stop")) == 200

    session.expire_all()
    assert session.get_one(Customer, anna.id).opted_out_at is not None
    assert session.get_one(CheckIn, checkin.id).status == "suppressed"
    telegram_app.drain(db)
    # Only the confirmation, on the channel the customer wrote from.
    assert [(s["chat_id"], s["method"]) for s in fake_telegram.sent] == [(CHAT, "sendMessage")]
    sms_out = [m for m in messages(session, direction="out") if m.channel == "sms"]
    assert [m.status for m in sms_out] == ["cancelled"]


def test_a_reps_acknowledge_button_reaches_the_escalation_commands(
    db, session, cast, telegram_app, fake_telegram
) -> None:
    rep = cast["rep"]
    rep.telegram_chat_id = CHAT
    session.commit()

    tap = fake_telegram.callback_update(CHAT, "ack:42", message_id=1)
    assert post_update(telegram_app, fake_telegram, tap) == 200

    [command] = messages(session, direction="in")
    assert (command.rep_id, command.body) == (rep.id, "/ack 42")
    wait_until(lambda: any(s["method"] == "answerCallbackQuery" for s in fake_telegram.sent))


def test_a_secret_without_a_running_bot_asks_telegram_to_come_back(
    db, session, fake_telegram
) -> None:
    app = webhook_app(db, channel_settings(telegram_webhook_secret=SECRET))
    with serving(app) as url:
        served = Served(url, app, Transports())
        assert post_update(served, fake_telegram, fake_telegram.text_update(CHAT, "hi")) == 503
    assert count(session, InboundEvent) == 0


def test_run_serves_the_webhooks_and_runs_the_bot(db, fake_telegram, telegram_channel) -> None:
    settings = channel_settings(telegram=fake_telegram, telegram_webhook_secret=SECRET)
    app = build_app(
        db, Transports(by_channel={"telegram": telegram_channel}), settings, scheduler=False
    )
    with serving(app) as url, httpx.Client(trust_env=False) as client:
        assert app.state.telegram_bot.ready.wait(5)
        for path in ("/webhooks/twilio/sms", "/webhooks/twilio/status", "/webhooks/telegram"):
            assert client.post(f"{url}{path}").status_code == 403  # there, and refusing strangers
        assert app.state.telegram_bot_username == "AftercareTestBot"  # from getMe
    assert fake_telegram.webhook["url"] == f"{PUBLIC}/webhooks/telegram"
