"""A receiver of Aftercare's event webhooks, as a shop's CRM would run one.

It checks every request's `X-Aftercare-Signature` with the algorithm documented
in docs/INTEGRATIONS.md (written out here again, not imported, so a change on
either side shows), de-duplicates by event id as receivers are told to, and can
be made to fail, or to hang, on demand.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from tests.fakes import LocalServer, Reply

TOLERANCE = 300


def verify(secret: str, header: str, body: bytes, now: float) -> bool:
    """The documented check: t and v1 from the header, HMAC-SHA256 of "<t>.<body>", 5 minutes."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp = fields.get("t", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE:
        return False
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


class EventReceiver(LocalServer):
    """POST /hooks: 200 for a well-signed event (stored once per id), 400 for a bad signature."""

    def __init__(self, secret: str, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.secret = secret
        self.url = f"{self.base_url}/hooks"
        self.requests: list[dict[str, Any]] = []  # every request, as it came
        self.events: dict[str, dict[str, Any]] = {}  # accepted events, by id: the de-dup
        self.bad_signatures = 0
        self._fail: list[int] = []
        self._hang = 0.0

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._cond:
            self._fail += [status] * times

    def hang(self, seconds: float) -> None:
        """Every request waits this long before it is answered (a receiver gone unresponsive)."""
        with self._cond:
            self._hang = seconds

    def types(self) -> list[str]:
        with self._cond:
            return [event["type"] for event in self.events.values()]

    def handle(self, method: str, path: str, query: str, headers: Any, body: bytes) -> Reply:
        with self._cond:
            self.requests.append(
                {"path": path, "headers": dict(headers), "body": body, "at": time.time()}
            )
            self._cond.notify_all()
            hang = self._hang
        if hang:
            self._stopping.wait(hang)
        with self._cond:
            if self._fail:
                return self._fail.pop(0), {}, b"try later"
            if method != "POST" or path != "/hooks":
                return 404, {}, b""
            if not verify(self.secret, headers.get("X-Aftercare-Signature", ""), body, time.time()):
                self.bad_signatures += 1
                return 400, {}, b"bad signature"
            event = json.loads(body)
            self.events.setdefault(event["id"], event)
            self._cond.notify_all()
            return 200, {"Content-Type": "application/json"}, b'{"ok":true}'
