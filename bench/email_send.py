"""Survey emails per second from the email channel to a local SMTP server, in one process.

    python -m bench.email_send [--emails N] [--in-flight N]

The real channel (aiosmtplib, one SMTP connection per email, as in production)
builds each email in full (plain text and HTML, eleven signed score links,
unsubscribe headers) and sends it to the tests' aiosmtpd server on 127.0.0.1,
running in a thread of the same process, so the figure is the client's and the
server's CPU together on one interpreter: a floor for a real relay on its own machine.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from messaging.channels.base import Button
from messaging.channels.email import EmailChannel
from settings import Settings
from tests.fakes.smtp_server import FakeSmtp

TEXT = (
    "Jan, how are you getting on with your Skoda Octavia?\n\n"
    "Hi Jan, hope you love your Skoda Octavia! How likely are you to recommend "
    "Kowalski Motors to a friend or colleague? Just click a score below.\n\n"
    "Rather not get these emails? Unsubscribe"
)


async def _send_all(channel: EmailChannel, emails: int, in_flight: int) -> None:
    slots = asyncio.Semaphore(in_flight)

    async def one(n: int) -> None:
        buttons = [[Button(str(s), data=f"score:{n}:{s}") for s in range(11)]]
        async with slots:
            await channel.send(f"customer-{n}@example.com", TEXT, buttons)

    await asyncio.gather(*(one(n) for n in range(emails)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=32)
    args = parser.parse_args()
    with FakeSmtp() as server:
        settings = Settings(
            smtp_url=server.url,
            email_from="Kowalski Motors <care@kowalski.example>",
            session_secret="bench-secret-for-email-links-000000",
            public_url="https://aftercare.example",
        )
        channel = EmailChannel(settings)
        started = time.perf_counter()
        asyncio.run(_send_all(channel, args.emails, args.in_flight))
        elapsed = time.perf_counter() - started
        assert len(server.received) == args.emails
    print(
        f"email_send: {args.emails} emails in {elapsed:.2f} s = {args.emails / elapsed:,.0f} emails/s "
        f"({args.in_flight} in flight, one SMTP connection each, local aiosmtpd, one process)"
    )


if __name__ == "__main__":
    main()
