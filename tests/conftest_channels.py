"""Fixtures for the provider-channel tests: the fake servers and channels pointed at them.

Loaded with `pytest_plugins = ["tests.conftest_channels"]` by the modules that need them;
nothing here is autouse, so the console-level tests pay for none of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from messaging.channels.sms import SmsChannel
from messaging.channels.telegram import RateLimiter, TelegramChannel
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
def sms(fake_twilio: FakeTwilio) -> SmsChannel:
    return SmsChannel(channel_settings(twilio=fake_twilio))


@pytest.fixture
def telegram_channel(fake_telegram: FakeTelegram) -> Iterator[TelegramChannel]:
    # A short per-chat spacing keeps tests quick; the limiter's own test uses real values.
    channel = TelegramChannel(
        channel_settings(telegram=fake_telegram), limiter=RateLimiter(per_chat=0.01)
    )
    yield channel
    channel.close()
