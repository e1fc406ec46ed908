"""The load generator of bench.webhook_ingest: Twilio's inbound webhooks, signed, over N connections.

It runs in a process of its own (the fake Twilio's threads live in the
benchmark's) and either posts as fast as it is answered (closed loop: each
connection sends the next webhook when the last is answered) or at a fixed
rate (open loop: webhook i is due at i / rate seconds, whoever is answering;
its latency counts from then, so time spent waiting for a free connection
counts too, as it would for Twilio).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

PATH = "/webhooks/twilio/sms"
# What customers answer a survey with: a bare score, or a score and a few words.
WORDS = ("", "", "", " great service", " thanks", " the car was dirty", " slow delivery")


def phone_of(n: int) -> str:
    return f"+1415{5_000_000 + n}"


@dataclass(frozen=True)
class Webhook:
    sid: str
    body: bytes  # the form, as Twilio encodes it
    signature: str


def webhooks(
    requests: int,
    repeats: float,
    rng: random.Random,
    *,
    public_url: str,
    account: str,
    auth: str,
    first_customer: int = 1,
) -> tuple[list[Webhook], int]:
    """The webhooks to post, in order, and how many distinct customers send them.

    One message per customer (customer n writes from `phone_of(n)`, n from
    `first_customer` on); a repeat is Twilio delivering an earlier MessageSid
    again a little later, sometimes while the first delivery is still being answered.
    """
    distinct = max(1, round(requests / (1 + repeats)))
    validator = RequestValidator(auth)
    firsts = []
    for n in range(first_customer, first_customer + distinct):
        sid = "SM" + rng.randbytes(16).hex()
        params = {  # the fields Twilio sends, in its order
            "ToCountry": "US",
            "ToState": "CA",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "94105",
            "SmsSid": sid,
            "FromState": "CA",
            "SmsStatus": "received",
            "FromCity": "SAN FRANCISCO",
            "Body": f"{rng.randint(0, 10)}{rng.choice(WORDS)}",
            "FromCountry": "US",
            "To": "+15005550006",
            "MessagingServiceSid": "",
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": account,
            "From": phone_of(n),
            "ApiVersion": "2010-04-01",
        }
        signature = validator.compute_signature(f"{public_url}{PATH}", params)
        firsts.append(Webhook(sid, urlencode(params).encode(), signature))
    ordered = list(firsts)
    for original in rng.sample(firsts, requests - distinct):
        at = ordered.index(original) + rng.randint(1, 50)
        ordered.insert(min(at, len(ordered)), original)
    return ordered, distinct


def forged(hooks: list[Webhook]) -> list[Webhook]:
    """The same webhooks with a signature that does not match (the baseline)."""
    return [Webhook(h.sid, h.body, "x" * 27 + "=") for h in hooks]


@dataclass(frozen=True)
class Load:
    seconds: float
    cpu: float  # the load generator's own CPU seconds
    latencies: list[float]  # seconds, one per answered request
    statuses: Counter[int]  # 0: no answer (a broken connection)

    @property
    def rate(self) -> float:
        return sum(self.statuses.values()) / self.seconds


def generate(
    url: str, hooks: list[Webhook], concurrency: int, rate: float = 0.0, client: str = "streams"
) -> Load:
    """POST every webhook over `concurrency` keep-alive connections: as fast as they are
    answered, or `rate` a second.

    `client` "streams" is a minimal HTTP/1.1 client on asyncio streams (about
    0.05 ms of CPU a request here); "httpx" is httpx.AsyncClient, which costs about
    1.2 ms a request on this machine, as much as the server under test: on two
    cores it measures itself more than the server.
    """
    post = {"streams": _post_with_streams, "httpx": _post_with_httpx}[client]
    return asyncio.run(_generate(url, hooks, concurrency, rate, post))


Schedule = Iterator[tuple[float | None, Webhook]]  # (when it is due, or None: at once; webhook)
Post = Callable[[str, Schedule, list[float], Counter[int]], Awaitable[None]]


async def _generate(
    url: str, hooks: list[Webhook], concurrency: int, rate: float, post: Post
) -> Load:
    started, cpu = time.perf_counter(), time.process_time()
    first = started + 0.01
    # Shared: each connection takes the next webhook when it is free.
    schedule = ((first + i / rate if rate else None, hook) for i, hook in enumerate(hooks))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    await asyncio.gather(*(post(url, schedule, latencies, statuses) for _ in range(concurrency)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Load(seconds, cpu, latencies, statuses)


async def _when_due(due: float | None) -> float:
    """Wait until `due`; the moment the request's latency counts from."""
    if due is None:
        return time.perf_counter()
    if (wait := due - time.perf_counter()) > 0:
        await asyncio.sleep(wait)
    return due


def _headers(hook: Webhook) -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": hook.signature,
        "I-Twilio-Idempotency-Token": hook.sid,
        "User-Agent": "TwilioProxy/1.1",
    }


async def _post_with_streams(
    url: str, schedule: Schedule, latencies: list[float], statuses: Counter[int]
) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    for due, hook in schedule:
        head = "".join(f"{name}: {value}\r\n" for name, value in _headers(hook).items())
        request = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}"
            f"Content-Length: {len(hook.body)}\r\n\r\n"
        ).encode() + hook.body
        started = await _when_due(due)
        try:
            writer.write(request)
            status, close = await _read_answer(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            statuses[0] += 1
            close = True
        else:
            latencies.append(time.perf_counter() - started)
            statuses[status] += 1
        if close:
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)
    writer.close()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, whether the server closes the connection) of one answer, its body read."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    fields = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
    await reader.readexactly(int(fields["content-length"]))
    return status, fields.get("connection") == "close"


async def _post_with_httpx(
    url: str, schedule: Schedule, latencies: list[float], statuses: Counter[int]
) -> None:
    import httpx

    # One client per connection: one pool shared by 32 connections costs more CPU still.
    async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
        for due, hook in schedule:
            started = await _when_due(due)
            try:
                answer = await client.post(url, content=hook.body, headers=_headers(hook))
            except httpx.HTTPError:
                statuses[0] += 1
                continue
            latencies.append(time.perf_counter() - started)
            statuses[answer.status_code] += 1
