"""The explicit map of channel names to the classes that deliver them."""

from __future__ import annotations

from collections.abc import Callable

from messaging.channels import Channel, Transports
from messaging.channels.sms import SmsChannel
from messaging.channels.telegram import TelegramChannel
from settings import Settings

# Nothing registers itself on import: a new channel is one more line here.
CHANNELS: dict[str, Callable[[Settings], Channel]] = {
    "sms": SmsChannel,
    "telegram": TelegramChannel,
}


def is_configured(name: str, settings: Settings) -> bool:
    """Whether the credentials for channel `name` are set (Settings.<name>_configured)."""
    return bool(getattr(settings, f"{name}_configured"))


def attach_configured(transports: Transports, settings: Settings) -> None:
    """Give `transports` a real provider for each channel whose credentials are set.

    Building a channel connects to nothing; the first send does. Without
    credentials the console stands in, as DESIGN.md promises.
    """
    for name, channel_class in CHANNELS.items():
        if is_configured(name, settings):
            transports.by_channel[name] = channel_class(settings)
