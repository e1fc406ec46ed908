"""Fixtures for the provider-channel tests: the fake servers and channels pointed at them.

Loaded with `pytest_plugins = ["tests.conftest_channels"]` by the modules that need them;
nothing here is autouse, so the console-level tests pay for none of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from messaging.channels.network import NETWORK
from messaging.channels.sms import SmsChannel
from messaging.channels.telegram import TelegramChannel
from tests.channel_support import AUTH, SID, TOKEN, channel_settings
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, AUTH) as fake:
        yield fake


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture
def sms(fake_twilio: FakeTwilio) -> Iterator[SmsChannel]:
    channel = SmsChannel(channel_settings(twilio=fake_twilio))
    yield channel
    close_channel(channel)


@pytest.fixture
def telegram_channel(fake_telegram: FakeTelegram) -> Iterator[TelegramChannel]:
    # A short per-chat spacing keeps tests quick; the budgets' own tests use real values.
    channel = TelegramChannel(channel_settings(telegram=fake_telegram), per_chat=0.01)
    yield channel
    close_channel(channel)


def close_channel(channel: SmsChannel | TelegramChannel) -> None:
    """Close what the test left open, on the network loop its clients were made on."""
    if NETWORK.started and not NETWORK.on_loop():
        NETWORK.call(channel.aclose(), timeout=10)


@pytest.fixture(autouse=True)
def sms_channels_closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every SMS channel a test made (their aiohttp sessions would warn when collected)."""
    made: list[SmsChannel] = []
    original = SmsChannel.__init__

    def remembering(self: SmsChannel, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(SmsChannel, "__init__", remembering)
    yield
    for channel in made:
        close_channel(channel)
