"""The one small interface every channel implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Button:
    """An inline button: `data` comes back to us when pressed; `url` opens a link."""

    text: str
    data: str | None = None
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value is not None}

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


class SendError(Exception):
    """A send that did not go through.

    `permanent`: retrying cannot help (bad number, blocked bot, opted out at the carrier).
    `uncertain`: the provider may have taken the message (a timeout after the request
    left); it must not be resent blindly. `retry_after`: the provider's own pause.
    `unreachable`: this address is dead for this channel (the customer blocked the bot).
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
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.uncertain = uncertain
        self.retry_after = retry_after
        self.unreachable = unreachable


class Channel(Protocol):
    name: str

    def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        """Send `text` to the address `to` (E.164 phone, or Telegram chat id)."""
        ...
