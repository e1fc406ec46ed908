"""Channels: one module per provider behind `Channel.send`.

`Transports` maps the customer-facing channel names ("sms", "telegram") to the
object that really delivers them: the provider when credentials are set, the
console otherwise. Nothing registers itself on import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from messaging.channels.base import Button, Buttons, Channel, SendError, SendResult
from messaging.channels.console import ConsoleChannel


@dataclass
class Transports:
    """What delivers each channel in this process."""

    by_channel: dict[str, Channel] = field(default_factory=dict)
    fallback: Channel = field(default_factory=ConsoleChannel)

    def for_channel(self, name: str) -> Channel:
        return self.by_channel.get(name, self.fallback)

    def name_for(self, channel: str) -> str:
        """The name recorded on a message: the channel, or "console" when it stands in."""
        return channel if channel in self.by_channel else self.fallback.name

    def close(self) -> None:
        """Release what the transports hold (e.g. the Telegram bot's private event loop)."""
        for channel in self.by_channel.values():
            close = getattr(channel, "close", None)
            if close is not None:
                close()

    def get(self, recorded_name: str) -> Channel:
        """The transport for a message recorded under `recorded_name`."""
        if recorded_name == self.fallback.name:
            return self.fallback
        return self.for_channel(recorded_name)


def console_only(channel: ConsoleChannel | None = None) -> Transports:
    return Transports(fallback=channel or ConsoleChannel())


__all__ = [
    "Button",
    "Buttons",
    "Channel",
    "ConsoleChannel",
    "SendError",
    "SendResult",
    "Transports",
    "console_only",
]
