"""The explicit map of channel names to the classes that deliver them."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from messaging.channels import Channel, Transports
from settings import Settings

# Nothing registers itself on import: a new channel is one more line here. The
# module is imported only when the channel is configured (a provider SDK is heavy).
CHANNELS: dict[str, str] = {
    "sms": "messaging.channels.sms:SmsChannel",
    "telegram": "messaging.channels.telegram:TelegramChannel",
}


def channel_class(name: str) -> Callable[[Settings], Channel]:
    module, attribute = CHANNELS[name].split(":")
    found: Callable[[Settings], Channel] = getattr(importlib.import_module(module), attribute)
    return found


def is_configured(name: str, settings: Settings) -> bool:
    """Whether the credentials for channel `name` are set (Settings.<name>_configured)."""
    return bool(getattr(settings, f"{name}_configured"))


def attach_configured(transports: Transports, settings: Settings) -> None:
    """Give `transports` a real provider for each channel whose credentials are set.

    Building a channel connects to nothing; the first send does. Without
    credentials the console stands in, as DESIGN.md promises.
    """
    for name in CHANNELS:
        if is_configured(name, settings):
            transports.by_channel[name] = channel_class(name)(settings)
