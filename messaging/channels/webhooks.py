"""What a channel receives: its webhooks, described without a web framework.

A channel declares `webhooks` (a class attribute): for each path, a `read` that
verifies the request is the provider's and says what it heard. The web layer
mounts every registered channel's webhooks (web/webhooks.py) and does the one
thing each kind of news needs: an `Inbound` message is stored and acknowledged
(its turn is taken after), a `Receipt` is recorded, and `ForRuntime` goes to the
channel's running part (the Telegram bot). So a new channel adds no route.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from messaging.channels.base import Inbound, Receipt
from settings import Settings


@dataclass(frozen=True)
class HookRequest:
    """A provider's POST as the web layer hands it over."""

    url: str  # the public URL the provider called: AFTERCARE_PUBLIC_URL, the path, the query
    headers: Mapping[str, str]  # looked up case-insensitively
    body: bytes


class Refused(Exception):
    """Not provably from the provider (403, the default), or not a request it sends (400)."""

    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


@dataclass(frozen=True)
class ForRuntime:
    """News only the channel's running part can act on (a Telegram update: a button press)."""

    payload: Any


# What a verified request said; None: nothing to act on (answered 200 all the same, since
# refusing would only make the provider send it again).
Heard = Inbound | Receipt | ForRuntime | None


@dataclass(frozen=True)
class Webhook:
    path: str
    read: Callable[[HookRequest, Settings], Heard]  # raises Refused
    answer: str = ""  # the 200's body: Twilio wants TwiML, even empty
    media_type: str = "text/plain"
