"""The official twilio client's CPU per SMS, beside bare aiohttp posting the same form.

    .venv/bin/python -m bench.twilio_client [--messages N] [--in-flight 32]

Both send N messages to the project's fake Twilio (tests/fakes, in a process of its own so
its threads do not contend for this one's GIL; no latency), 32 at a time on one event loop: first with aiohttp alone (the form Twilio
takes, Basic auth, the JSON answer parsed), then through `SmsChannel.send`, which is
`twilio`'s `messages.create_async` on its `AsyncTwilioHttpClient`, as every Aftercare
send is. The figure that matters is the sending thread's CPU per message
(`time.thread_time`, so the fake's own threads are not counted): it is the floor under
any no-latency throughput of a process that must use the official client.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from types import SimpleNamespace
from typing import Any

import aiohttp

from messaging.channels.sms import SmsChannel
from tests.channel_support import AUTH, OUR_NUMBER, SID, channel_settings
from tests.fakes.twilio_server import FakeTwilio

BODY = (
    "Hi Anna, thank you for choosing Kowalski Motors. How likely are you to recommend us "
    "to a friend? Reply with a number from 0 to 10."
)


async def _run(
    count: int, in_flight: int, send: Callable[[int], Awaitable[None]]
) -> tuple[float, float]:
    """(wall seconds, this thread's CPU seconds) to send `count`, `in_flight` at a time."""
    bound = asyncio.Semaphore(in_flight)

    async def one(n: int) -> None:
        async with bound:
            await send(n)

    started, cpu = time.perf_counter(), time.thread_time()
    await asyncio.gather(*(one(n) for n in range(count)))
    return time.perf_counter() - started, time.thread_time() - cpu


def _serve(pipe: Connection) -> None:
    fake = FakeTwilio(SID, AUTH)
    pipe.send(fake.base_url)
    pipe.recv()  # until the benchmark is done
    fake.stop()


async def bare(fake: Any, count: int, in_flight: int) -> tuple[float, float]:
    url = f"{fake.base_url}/2010-04-01/Accounts/{SID}/Messages.json"
    headers = {"Authorization": aiohttp.encode_basic_auth(SID, AUTH)}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def send(n: int) -> None:
            form = {"To": f"+1415{5000000 + n}", "From": OUR_NUMBER, "Body": BODY}
            async with http.post(url, data=form, headers=headers) as answer:
                assert answer.status == 201, answer.status
                assert (await answer.json())["sid"]

        await send(-1)  # the connection and the fake's first answer, outside the count
        return await _run(count, in_flight, send)


async def official(fake: Any, count: int, in_flight: int) -> tuple[float, float]:
    channel = SmsChannel(channel_settings(fake))

    async def send(n: int) -> None:
        assert (await channel.send(f"+1415{5000000 + n}", BODY)).provider_id

    try:
        await send(-1)  # the client, its session and its first connection
        return await _run(count, in_flight, send)
    finally:
        await channel.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000, help="messages per client")
    parser.add_argument("--in-flight", type=int, default=32, help="requests at a time")
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(theirs,), daemon=True)
    server.start()
    fake = SimpleNamespace(base_url=ours.recv())
    try:
        rows = []
        for name, client in (("aiohttp alone", bare), ("twilio client", official)):
            wall, cpu = asyncio.run(client(fake, args.messages, args.in_flight))
            rows.append((name, args.messages / wall, 1000 * cpu / args.messages))
    finally:
        ours.send("stop")
        server.join(10)
    print(f"{args.messages:,} SMS each, {args.in_flight} in flight, fake Twilio, no latency")
    print(f"{'client':<16}{'msgs/s':>10}{'CPU ms/msg':>12}")
    for name, rate, per in rows:
        print(f"{name:<16}{rate:>10,.0f}{per:>12.3f}")
    print(f"the official client costs {rows[1][2] / rows[0][2]:.2f}x the CPU of aiohttp alone")


if __name__ == "__main__":
    main()
