"""The one small interface every channel implements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol


class Button(NamedTuple):
    """An inline button: `data` comes back to us when pressed; `url` opens a link."""

    # A tuple, not a dataclass: a survey carries eleven, and dispatch makes thousands.
    text: str
    data: str | None = None
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"text": self.text}
        if self.data is not None:
            found["data"] = self.data
        if self.url is not None:
            found["url"] = self.url
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Button:
        return cls(text=data["text"], data=data.get("data"), url=data.get("url"))


Buttons = list[list[Button]]


def buttons_to_json(buttons: Buttons | None) -> list[list[dict[str, Any]]] | None:
    return None if buttons is None else [[b.to_json() for b in row] for row in buttons]


def buttons_from_json(data: list[list[dict[str, Any]]] | None) -> Buttons | None:
    return None if data is None else [[Button.from_json(b) for b in row] for row in data]


@dataclass(frozen=True)
class SendResult:
    provider_id: str


@dataclass(frozen=True)
class Limit:
    """A provider budget that every Aftercare process shares through the database.

    `key` names the sender it belongs to ("sms:+15005550006", "telegram:123456",
    "telegram-chat:42"); a 429 pauses the first key of a message's limits.
    `per_second` None: no pacing of our own, only the provider's pauses.
    """

    key: str
    per_second: float | None = None


class SendError(Exception):
    """A send that did not go through.

    `permanent`: retrying cannot help (bad number, blocked bot, opted out at the carrier).
    `uncertain`: the provider may have taken the message (a timeout after the request
    left); it must not be resent blindly. `retry_after`: the provider's own pause.
    `unreachable`: this address is dead for this channel (the customer blocked the bot).
    `throttled`: the provider told this sender to slow down (a 429); every process pauses it.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str | None = None,
        uncertain: bool = False,
        retry_after: float | None = None,
        unreachable: bool = False,
        throttled: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.uncertain = uncertain
        self.retry_after = retry_after
        self.unreachable = unreachable
        self.throttled = throttled


class Channel(Protocol):
    """A way to reach people. Every method runs on the one event loop that owns the network."""

    name: str
    # Whether `look_up` can tell if the provider has a message (Twilio's message list can;
    # the Telegram Bot API cannot). Reconciliation resends blindly when it cannot.
    can_look_up: bool
    # Whether it shows inline buttons (SMS does not: they are left out, not decoded).
    shows_buttons: bool

    async def connect(self) -> None:
        """Get ready to send (Telegram's getMe): done before a send books its paced slot."""
        ...

    async def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        """Send `text` to the address `to` (E.164 phone, or Telegram chat id)."""
        ...

    def limits(self, to: str) -> tuple[Limit, ...]:
        """The shared budgets a message to `to` spends, the sender's own first."""
        ...

    async def look_up(self, to: str, text: str, since: datetime) -> list[str]:
        """Provider ids of messages with exactly `text` sent to `to` at or after `since`."""
        ...

    async def aclose(self) -> None:
        """Release connections (called once, on the loop, when the process stops sending)."""
        ...
