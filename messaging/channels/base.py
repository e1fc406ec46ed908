"""The one small interface every channel implements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
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


class ErrorKind(StrEnum):
    """What a failed send means for the message, as the channel classified it."""

    TRANSIENT = "transient"  # try again later (a 5xx, a connection refused)
    THROTTLED = "throttled"  # the provider said slow down (a 429): every process pauses it
    PERMANENT = "permanent"  # retrying cannot help (a bad number, opted out at the carrier)
    UNREACHABLE = "unreachable"  # this address is dead on this channel (the bot was blocked)
    UNCERTAIN = "uncertain"  # the provider may have taken it: look it up, never resend blindly


class SendError(Exception):
    """A send that did not go through: its kind, the provider's code, and its own pause."""

    def __init__(
        self,
        message: str,
        kind: ErrorKind,
        *,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind, self.code, self.retry_after = kind, code, retry_after

    @property
    def permanent(self) -> bool:
        return self.kind in (ErrorKind.PERMANENT, ErrorKind.UNREACHABLE)

    @property
    def uncertain(self) -> bool:
        return self.kind is ErrorKind.UNCERTAIN

    @property
    def unreachable(self) -> bool:
        return self.kind is ErrorKind.UNREACHABLE

    @property
    def throttled(self) -> bool:
        return self.kind is ErrorKind.THROTTLED


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


@dataclass(frozen=True)
class Inbound:
    """A message as it arrived."""

    channel: str  # "sms", "telegram" or "console"
    address: str  # the sender: E.164 phone, or the Telegram chat id as a string
    text: str
    provider_id: str  # unique per channel: Twilio MessageSid, "tg:<update_id>", console id
    received_at: datetime
    # A Telegram button press on a survey: (check-in id, score).
    button_score: tuple[int, int] | None = None
    # The press may correct the one before (a score link in an email, which the page offers
    # to click again): within the window the last number counts. A keyboard tap does not.
    corrects: bool = False
    sender_name: str = ""
    # The sender's own language when the channel tells us (Telegram's language_code);
    # only used to answer someone we do not know.
    sender_language: str = ""


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt in our words: `status` is one of Message's statuses."""

    channel: str
    provider_id: str
    status: str
    error_code: str | None = None
    error: str | None = None
