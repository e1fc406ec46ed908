"""Channels: one module per provider behind `Channel.send`.

`Transports` maps the customer-facing channel names ("sms", "telegram", "email")
to the object that really delivers them: the provider when credentials are set,
the console otherwise. A message always records the customer's real channel;
only its delivery goes to the console. It also holds the `Network`, the one
event loop the providers' clients live on. Nothing registers itself on import.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from messaging.channels.base import Button, Buttons, Channel, Limit, SendError, SendResult
from messaging.channels.console import ConsoleChannel
from messaging.channels.network import NETWORK, Network

log = logging.getLogger(__name__)


@dataclass
class Transports:
    """What delivers each channel in this process, and the loop their clients live on."""

    by_channel: dict[str, Channel] = field(default_factory=dict)
    fallback: Channel = field(default_factory=ConsoleChannel)
    network: Network = field(default_factory=lambda: NETWORK)

    def get(self, channel: str) -> Channel:
        """What delivers a message recorded on `channel`: its provider when configured, else
        the console (also for rows an older version recorded as "console")."""
        return self.by_channel.get(channel, self.fallback)

    async def aclose(self) -> None:
        """Close every channel's connections, on the network loop."""
        for channel in [*self.by_channel.values(), self.fallback]:
            try:
                await channel.aclose()
            except Exception:  # noqa: BLE001 - closing: nothing left to save
                log.debug("closing channel %s failed", channel.name, exc_info=True)

    @asynccontextmanager
    async def served_here(self) -> AsyncIterator[None]:
        """Make the running loop (uvicorn's, in `run`) own the network until the block ends.

        A private loop started earlier (the demo's first pass) is closed first: the
        providers' clients are bound to the loop they were made on.
        """
        if self.network.started:
            await asyncio.to_thread(self.close)
        async with self.network.borrowed():
            try:
                yield
            finally:
                await self.aclose()

    def close(self) -> None:
        """Close the channels and stop a private network loop (commands and tests)."""
        if not self.network.started:
            return  # nothing was ever sent: no connections to close
        if self.network.on_loop():
            raise RuntimeError("close() on the network loop; await aclose()")
        self.network.call(self.aclose(), timeout=10)
        self.network.stop()


def console_only(channel: ConsoleChannel | None = None) -> Transports:
    return Transports(fallback=channel or ConsoleChannel())


__all__ = [
    "Button",
    "Buttons",
    "Channel",
    "ConsoleChannel",
    "Limit",
    "Network",
    "SendError",
    "SendResult",
    "Transports",
    "console_only",
]
