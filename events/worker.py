"""Delivering events: an async task of its own, beside (never inside) the message sender.

Each round claims at most `in_flight` due rows, POSTs them concurrently with a
timeout, and writes the outcomes in one statement. The database work runs in a
thread, so the event loop that serves webhooks and sends messages is never held
by it; and since this task shares nothing with the sender but the loop, a receiver
that is down or slow can delay only other events, never a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from events import delivery
from events.delivery import Attempt, Claimed
from events.metrics import ATTEMPTS
from events.signing import HEADER, header
from models.db import transaction

log = logging.getLogger(__name__)

IN_FLIGHT = 8
TIMEOUT = 10.0
POLL_SECONDS = 2.0
PRUNE_EVERY = 3600.0
USER_AGENT = "Aftercare-Events/1"
ERROR_START = 200  # bytes of a receiver's error answer kept as the delivery's last error


def where(endpoint: str) -> str:
    """An endpoint as logs show it: scheme, host and path (a query may hold a token)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


class EventWorker:
    """Claims due events and POSTs them, signed, until stopped."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        secret: str,
        *,
        in_flight: int = IN_FLIGHT,
        timeout: float = TIMEOUT,
        poll_seconds: float = POLL_SECONDS,
        worker: str | None = None,
    ) -> None:
        if not secret:
            raise ValueError("events are never sent unsigned: AFTERCARE_EVENTS_SECRET is empty")
        self.factory, self._secret = factory, secret
        self.in_flight, self.timeout, self.poll_seconds = in_flight, timeout, poll_seconds
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:events"
        self._stop = asyncio.Event()
        self._last_prune = float("-inf")

    def client(self) -> httpx.AsyncClient:
        """The HTTP client: a timeout on everything, no redirects (a 3xx is a failure)."""
        return httpx.AsyncClient(
            timeout=self.timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=self.in_flight),
        )

    async def run(self) -> None:
        """Deliver rounds until `stop()`; rest between rounds only when nothing was due."""
        async with self.client() as http:
            while not self._stop.is_set():
                try:
                    busy = bool(await self.deliver_due(http))
                    await self._prune_now_and_then()
                except Exception:  # a bad round (the database away) must not end the worker
                    log.exception("event delivery round failed")
                    busy = False
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), self.poll_seconds)

    def stop(self) -> None:
        self._stop.set()

    async def shutdown(self, runner: asyncio.Task[None]) -> None:
        """Stop claiming and let the round in flight finish (its POSTs have a timeout)."""
        self.stop()
        try:
            await asyncio.wait_for(asyncio.shield(runner), self.timeout + 5)
        except TimeoutError:
            # Claims cut off here are due again when their lease ends, in any process.
            runner.cancel()

    async def deliver_due(
        self, http: httpx.AsyncClient, now: datetime | None = None
    ) -> list[Attempt]:
        """One round: claim what is due at `now` (default the real clock), POST, write outcomes."""
        claimed_at = now or utcnow()
        rows = await asyncio.to_thread(self._claim, claimed_at)
        if not rows:
            return []
        attempts = list(await asyncio.gather(*(self._post(http, row) for row in rows)))
        settled_at = now or utcnow()
        await asyncio.to_thread(self._settle, settled_at, attempts)
        return attempts

    async def deliver_backlog(self, budget: float, now: datetime | None = None) -> int:
        """Rounds until nothing is due or `budget` seconds have passed (for `tick`); how many POSTs."""
        deadline = time.monotonic() + budget
        posted = 0
        async with self.client() as http:
            while time.monotonic() < deadline:
                attempts = await self.deliver_due(http, now)
                if not attempts:
                    break
                posted += len(attempts)
                if not any(attempt.delivered for attempt in attempts):
                    break  # everything due is failing: the backoff decides when to try again
        return posted

    def _claim(self, now: datetime) -> list[Claimed]:
        lease = timedelta(seconds=3 * self.timeout)
        with transaction(self.factory) as session:
            return delivery.claim(
                session, now=now, worker=self.worker, limit=self.in_flight, lease=lease
            )

    def _settle(self, now: datetime, attempts: list[Attempt]) -> None:
        with transaction(self.factory) as session:
            delivery.settle(session, now, self.worker, attempts)
        for attempt in attempts:
            if attempt.delivered:
                ATTEMPTS.labels("delivered").inc()
            elif now - attempt.row.queued_at >= delivery.GIVE_UP_AFTER:
                ATTEMPTS.labels("dead").inc()
                log.error(
                    "event %s to %s given up after %d attempts: %s",
                    attempt.row.event_id,
                    where(attempt.row.endpoint),
                    attempt.row.attempts,
                    attempt.error,
                )
            else:
                ATTEMPTS.labels("failed").inc()
                log.warning(
                    "event %s to %s failed (attempt %d, retried later): %s",
                    attempt.row.event_id,
                    where(attempt.row.endpoint),
                    attempt.row.attempts,
                    attempt.error,
                )

    async def _post(self, http: httpx.AsyncClient, row: Claimed) -> Attempt:
        body = row.body.encode()
        headers = {
            "Content-Type": "application/json",
            HEADER: header(self._secret, int(time.time()), body),
            "X-Aftercare-Event-Id": row.event_id,
        }
        try:
            # One deadline for the whole exchange: httpx's timeout is per read, and a
            # receiver dripping its answer a byte at a time must not hold a slot for ever.
            async with asyncio.timeout(self.timeout):
                return await self._exchange(http, row, body, headers)
        except TimeoutError:
            return Attempt(row, None, f"no answer within {self.timeout:g} s")
        except httpx.HTTPError as error:
            return Attempt(row, None, f"{type(error).__name__}: {error}".rstrip(": "))

    async def _exchange(
        self, http: httpx.AsyncClient, row: Claimed, body: bytes, headers: dict[str, str]
    ) -> Attempt:
        async with http.stream("POST", row.endpoint, content=body, headers=headers) as answer:
            if 200 <= answer.status_code < 300:
                return Attempt(row, answer.status_code)
            # Only the start of an error page is worth keeping (and reading).
            start = b""
            async for chunk in answer.aiter_bytes():
                start += chunk
                if len(start) >= ERROR_START:
                    break
            text = start[:ERROR_START].decode("utf-8", "replace").strip()
            return Attempt(row, answer.status_code, f"HTTP {answer.status_code}: {text}")

    async def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = time.monotonic()

        def prune() -> None:
            with transaction(self.factory) as session:
                delivery.prune(session, utcnow())

        await asyncio.to_thread(prune)
