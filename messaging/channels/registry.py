"""The channels, one entry each: what is channel-specific outside the channel's own module.

An entry says how to find a person's address on the channel (None when they have
none there, or it is dead), whether messages there carry buttons, and which class
delivers it. Scheduler, escalation and import ask here; they never name a channel.

Nothing registers itself on import: a new channel is one more entry here. Its
module is imported only when the channel is configured (a provider SDK is heavy).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from messaging.channels import Channel, Transports
from settings import Settings


@dataclass(frozen=True)
class ChannelEntry:
    provider: str  # "module:Class", imported when the channel is configured
    address_of: Callable[[Any], str | None]  # a customer's or rep's address here
    shows_buttons: bool
    # The customer fields, any one of which makes the channel usable when importing
    # (a phone is enough for Telegram: the customer links their chat by the deep link).
    contact_fields: tuple[str, ...]
    # Where a sender's address is kept on Customer and Rep, and how an inbound address
    # reads as that column's value (None: not an address of this channel).
    column: str
    parse_address: Callable[[str], Any]


def _phone(person: Any) -> str | None:
    return getattr(person, "phone", None) or None


def _telegram_chat(person: Any) -> str | None:
    chat = getattr(person, "telegram_chat_id", None)
    if chat is None or getattr(person, "telegram_unreachable_at", None) is not None:
        return None  # not linked, or the bot was blocked
    return str(chat)


_CHAT_ID = re.compile(r"-?[0-9]{1,19}")


def _chat_id(address: str) -> int | None:
    # Only a bare integer: int("+48600000002") would happily turn a phone into a chat id.
    return int(address) if _CHAT_ID.fullmatch(address) else None


CHANNELS: dict[str, ChannelEntry] = {
    "sms": ChannelEntry(
        "messaging.channels.sms:SmsChannel",
        _phone,
        shows_buttons=False,
        contact_fields=("phone",),
        column="phone",
        parse_address=lambda address: address or None,
    ),
    "telegram": ChannelEntry(
        "messaging.channels.telegram:TelegramChannel",
        _telegram_chat,
        shows_buttons=True,
        contact_fields=("telegram_chat_id", "phone"),
        column="telegram_chat_id",
        parse_address=_chat_id,
    ),
}


def address_on(channel: str, person: Any) -> str | None:
    """`person`'s address on `channel`, or None when they have none there (never "None")."""
    entry = CHANNELS.get(channel)
    return entry.address_of(person) if entry is not None else None


def reach(person: Any, preferred: str | None) -> tuple[str, str] | None:
    """(channel, address) for `person`: the preferred channel if it works, else the first that does."""
    for name in ([preferred] if preferred in CHANNELS else []) + list(CHANNELS):
        assert name is not None
        address = address_on(name, person)
        if address is not None:
            return name, address
    return None


def senders_on(channel: str, address: str) -> list[tuple[str, Any]]:
    """(column, value) pairs that may identify who wrote from `address` on `channel`.

    A channel not in the registry (the console, standing in for any of them) tries
    each channel's column in turn.
    """
    names = [channel] if channel in CHANNELS else list(CHANNELS)
    pairs = []
    for name in names:
        value = CHANNELS[name].parse_address(address)
        if value is not None:
            pairs.append((CHANNELS[name].column, value))
    return pairs


def shows_buttons(channel: str) -> bool:
    entry = CHANNELS.get(channel)
    return entry is not None and entry.shows_buttons


def channel_class(name: str) -> Callable[[Settings], Channel]:
    module, attribute = CHANNELS[name].provider.split(":")
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
