"""The console channel: prints every message and remembers it. Used without credentials."""

from __future__ import annotations

import itertools
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from messaging.channels.base import Buttons, Limit, SendResult


@dataclass(frozen=True)
class ConsoleMessage:
    to: str
    text: str
    buttons: Buttons | None
    provider_id: str


class ConsoleChannel:
    name = "console"
    # It remembers only what this process printed; after a crash it cannot tell.
    can_look_up = False
    shows_buttons = True

    def __init__(self, stream: TextIO | None = sys.stdout) -> None:
        self.stream = stream
        self.sent: list[ConsoleMessage] = []
        # Tests read `sent` from their own thread while the network loop appends to it.
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._prefix = f"console-{id(self):x}"

    async def connect(self) -> None:
        return None

    async def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        with self._lock:
            provider_id = f"{self._prefix}-{next(self._ids)}"
            self.sent.append(ConsoleMessage(to, text, buttons, provider_id))
        if self.stream is not None:
            labels = "  ".join(f"[{b.text}]" for row in buttons or [] for b in row)
            print(f"--> {to}: {text}" + (f"\n    {labels}" if labels else ""), file=self.stream)
        return SendResult(provider_id=provider_id)

    def limits(self, to: str) -> tuple[Limit, ...]:
        return ()

    async def look_up(self, to: str, text: str, since: datetime) -> list[str]:
        return []

    async def aclose(self) -> None:
        return None

    def to(self, address: str) -> list[str]:
        """What this address received, oldest first (for tests and the demo)."""
        with self._lock:
            return [m.text for m in self.sent if m.to == address]
