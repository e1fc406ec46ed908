"""The SMS channel: the real `twilio` client against the fake Twilio, through the outbox."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from cli.common import transports_for
from messaging.channels import Button, ConsoleChannel, SendError, Transports
from messaging.channels.sms import SmsChannel, delivery_report
from messaging.channels.telegram import TelegramChannel
from messaging.outbox import drain
from models import CheckIn
from tests.channel_support import (
    AUTH,
    NOW,
    OUR_NUMBER,
    PUBLIC,
    SERVICE_SID,
    SID,
    channel_settings,
    drain_now,
    later,
    messages,
    send,
    survey_for,
)
from tests.fakes.twilio_server import FakeTwilio

# The fake providers, settings for them and a served app (not autouse: only these modules).
pytest_plugins = ["tests.conftest_channels"]


@pytest.fixture
def transports(sms: SmsChannel) -> Transports:
    return Transports(by_channel={"sms": sms}, fallback=ConsoleChannel(stream=None))


def test_a_survey_reaches_twilio_from_our_number_with_callback_and_validity(
    db, session, cast, transports, fake_twilio
) -> None:
    john = cast["en"]
    checkin = survey_for(session, john, channel="sms", address=john.phone)

    report = drain_now(db, transports)

    assert report["sent"] == 1
    [sent] = fake_twilio.messages
    assert (sent["to"], sent["from_"], sent["messaging_service_sid"]) == (
        john.phone,
        OUR_NUMBER,
        None,
    )
    assert sent["body"].startswith("Hi John, how likely")
    assert sent["status_callback"] == f"{PUBLIC}/webhooks/twilio/status"
    assert sent["validity_period"] == 4 * 3600  # a stale survey never arrives at night
    [message] = messages(session, direction="out")
    assert (message.status, message.provider_id, message.channel) == ("sent", sent["sid"], "sms")
    assert session.get_one(CheckIn, checkin.id).status == "sent"


def test_without_a_from_number_the_messaging_service_sends(db, session, cast, fake_twilio) -> None:
    settings = channel_settings(
        twilio=fake_twilio, twilio_from_number="", twilio_messaging_service_sid=SERVICE_SID
    )
    transports = Transports(by_channel={"sms": SmsChannel(settings)})
    survey_for(session, cast["pl"], channel="sms", address=cast["pl"].phone)

    assert drain_now(db, transports)["sent"] == 1

    [sent] = fake_twilio.messages
    assert (sent["from_"], sent["messaging_service_sid"], sent["status"]) == (
        None,
        SERVICE_SID,
        "accepted",
    )


def test_an_invalid_number_fails_at_once_with_twilios_code(
    db, session, cast, transports, fake_twilio
) -> None:
    checkin = survey_for(session, cast["en"], channel="sms", address="601234567")

    assert drain_now(db, transports)["failed"] == 1

    [message] = messages(session, direction="out")
    assert (message.status, message.error_code, message.attempts) == ("failed", "21211", 1)
    assert "not a valid phone number" in message.error
    failed = session.get_one(CheckIn, checkin.id)
    assert failed.status == "failed" and "21211" in failed.error
    assert fake_twilio.messages == []


@pytest.mark.parametrize("code", [21610, 21614, 21408, 30007])
def test_unreachable_and_opted_out_numbers_are_permanent(
    code, db, session, cast, transports, fake_twilio
) -> None:
    john = cast["en"]
    fake_twilio.fail_number(john.phone, code=code)
    survey_for(session, john, channel="sms", address=john.phone)

    assert drain_now(db, transports)["failed"] == 1
    assert drain_now(db, transports, later(3600)).total == 0  # never tried again
    [message] = messages(session, direction="out")
    assert (message.status, message.error_code) == ("failed", str(code))


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retried_after_a_pause(
    status, db, session, cast, transports, fake_twilio
) -> None:
    john = cast["en"]
    fake_twilio.fail_next(status=status)
    checkin = survey_for(session, john, channel="sms", address=john.phone)

    assert drain_now(db, transports)["retry"] == 1
    [message] = messages(session, direction="out")
    assert message.status == "queued" and message.next_attempt_at > NOW
    assert drain_now(db, transports).total == 0  # not before the pause is over

    if status == 429:
        # A 429 without Retry-After pauses the sender for a second (real time), everywhere:
        # a message due meanwhile is given back, without counting an attempt.
        assert drain_now(db, transports, message.next_attempt_at)["released"] == 1
        time.sleep(1.05)
    assert drain_now(db, transports, later(3600))["sent"] == 1
    assert [m["to"] for m in fake_twilio.messages] == [john.phone]
    assert session.get_one(CheckIn, checkin.id).status == "sent"


class TwilioWithRetryAfter(FakeTwilio):
    """Twilio may say how long to wait on a 429; the fake does not, so add the header."""

    def handle(self, method: str, path: str, query: str, headers: Any, body: bytes) -> Any:
        status, reply_headers, payload = super().handle(method, path, query, headers, body)
        if status == 429:
            reply_headers = {**reply_headers, "Retry-After": "120"}
        return status, reply_headers, payload


def test_a_retry_after_header_sets_the_pause(db, session, cast) -> None:
    with TwilioWithRetryAfter(SID, AUTH) as fake:
        transports = Transports(by_channel={"sms": SmsChannel(channel_settings(twilio=fake))})
        fake.fail_next(status=429)
        survey_for(session, cast["en"], channel="sms", address=cast["en"].phone)

        assert drain_now(db, transports)["retry"] == 1

    [message] = messages(session, direction="out")
    assert message.next_attempt_at == NOW + timedelta(seconds=120)
    assert message.error_code == "20429"


@pytest.mark.parametrize("held_by_twilio", [False, True])
def test_a_timeout_after_sending_is_looked_up_and_never_sent_twice(
    db, session, cast, fake_twilio, held_by_twilio
) -> None:
    # Held: Twilio accepted it but has not handed it to the carrier (no date_sent yet).
    fake_twilio.hold_in_queue = held_by_twilio
    john = cast["en"]
    settings = channel_settings(twilio=fake_twilio, provider_timeout=0.3)
    transports = Transports(by_channel={"sms": SmsChannel(settings)})
    fake_twilio.delay_next(2)
    checkin = survey_for(session, john, channel="sms", address=john.phone)

    assert drain(db, NOW, transports, settings=settings)["uncertain"] == 1
    [message] = messages(session, direction="out")
    assert message.status == "uncertain" and "after sending" in message.error
    # The customer most likely has it: a reply must count even before Twilio is asked.
    assert session.get_one(CheckIn, checkin.id).status == "sent"

    time.sleep(0.35)  # the look-up waits one provider timeout
    report = drain(db, later(60), transports, settings=settings)
    assert report.reconciled == {"found": 1} and report.total == 0
    assert fake_twilio.list_requests == 1
    assert [m["to"] for m in fake_twilio.messages] == [john.phone]  # Twilio has it, once
    [message] = messages(session, direction="out")
    assert (message.status, message.reconciliation) == ("sent", "found")
    assert message.provider_id == fake_twilio.messages[0]["sid"]
    session.expire_all()
    assert session.get_one(CheckIn, checkin.id).status == "sent"


def test_a_refused_connection_is_transient_not_uncertain() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = SmsChannel(channel_settings(twilio_account_sid="AC" + "b" * 32, twilio_auth_token="t",
                                          twilio_from_number=OUR_NUMBER,
                                          twilio_api_base_url=f"http://127.0.0.1:{port}"))  # fmt: skip
    with pytest.raises(SendError) as error:
        send(channel, "+14155550101", "Hi")
    assert (error.value.permanent, error.value.uncertain) == (False, False)


def test_a_connection_dropped_after_the_request_left_is_uncertain() -> None:
    # A server that reads the whole request, then hangs up without answering.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def swallow() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)

        thread = threading.Thread(target=swallow, daemon=True)
        thread.start()
        channel = SmsChannel(channel_settings(twilio_account_sid=SID, twilio_auth_token=AUTH,
                                              twilio_from_number=OUR_NUMBER,
                                              twilio_api_base_url=f"http://127.0.0.1:{port}"))  # fmt: skip
        with pytest.raises(SendError) as error:
            send(channel, "+14155550101", "Hi")
        thread.join(5)
    assert (error.value.permanent, error.value.uncertain) == (False, True)


def test_wrong_credentials_are_kept_for_a_fixed_deployment(fake_twilio) -> None:
    channel = SmsChannel(channel_settings(twilio=fake_twilio, twilio_auth_token="wrong"))
    with pytest.raises(SendError) as error:
        send(channel, "+14155550101", "Hi")
    assert (error.value.permanent, error.value.code) == (False, "20003")


def test_buttons_are_dropped_on_sms(sms, fake_twilio) -> None:
    result = send(sms, "+14155550101", "Rate us", [[Button("9", data="score:1:9")]])
    assert fake_twilio.message(result.provider_id)["body"] == "Rate us"


def test_channels_attach_only_when_their_credentials_are_set(fake_twilio) -> None:
    assert transports_for(channel_settings()).by_channel == {}
    sms_only = transports_for(channel_settings(twilio=fake_twilio))
    assert set(sms_only.by_channel) == {"sms"} and isinstance(
        sms_only.by_channel["sms"], SmsChannel
    )
    both = transports_for(channel_settings(twilio=fake_twilio, telegram_bot_token="1:x"))
    assert isinstance(both.by_channel["telegram"], TelegramChannel)
    assert both.get("telegram") is both.by_channel["telegram"]
    no_sender = transports_for(channel_settings(twilio=fake_twilio, twilio_from_number=""))
    assert no_sender.get("sms") is no_sender.fallback  # the console stands in
    assert no_sender.get("console") is no_sender.fallback  # rows an older version recorded


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"MessageSid": "SM1", "MessageStatus": "delivered"}, ("delivered", None, None)),
        ({"MessageSid": "SM1", "MessageStatus": "sent"}, ("sent", None, None)),
        (
            {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"},
            ("undelivered", "30003", "undelivered (Twilio 30003: unreachable destination handset)"),
        ),
        ({"MessageSid": "SM1", "MessageStatus": "failed"}, ("failed", None, "failed")),
        ({"MessageSid": "SM1", "MessageStatus": "queued"}, None),
        ({"MessageStatus": "delivered"}, None),
    ],
)
def test_status_callbacks_read_in_our_words(form, expected) -> None:
    report = delivery_report(form)
    assert (
        None if report is None else (report.status, report.error_code, report.error)
    ) == expected
