"""Lifespan hooks: what runs beside the web server for as long as it serves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from conversation.inbox import Inbox
from conversation.telegram_bot import TelegramBot
from events.worker import EventWorker
from messaging.channels import Transports
from messaging.channels.telegram import TelegramChannel
from settings import Settings


def lifespan_hook(
    transports: Transports, factory: sessionmaker[Session], settings: Settings
) -> Callable[[FastAPI], Any]:
    """The FastAPI lifespan hook that runs the bot when Telegram is configured (else does nothing)."""

    @asynccontextmanager
    async def telegram_running(app: FastAPI) -> AsyncIterator[None]:
        channel = transports.by_channel.get("telegram")
        if not isinstance(channel, TelegramChannel):
            yield
            return

        def remember(username: str) -> None:
            app.state.telegram_bot_username = settings.telegram_bot_username or username

        async with TelegramBot(channel, factory, settings, on_username=remember).running() as bot:
            app.state.telegram_bot = app.state.channel_runtimes[channel.name] = bot
            try:
                yield
            finally:
                app.state.telegram_bot = None
                app.state.channel_runtimes.pop(channel.name, None)

    return telegram_running


def inbox_hook(
    factory: sessionmaker[Session], settings: Settings, *, take_turns: bool = True
) -> Callable[[FastAPI], Any]:
    """The FastAPI lifespan hook that gives webhooks the inbox and (`take_turns`) runs its worker.

    Without the worker (tests), turns wait until `take_turns()` is called.
    """

    @asynccontextmanager
    async def inbox_running(app: FastAPI) -> AsyncIterator[None]:
        inbox = Inbox(factory, settings)
        runner = asyncio.create_task(inbox.run(), name="inbox") if take_turns else None
        app.state.inbox = inbox
        try:
            yield
        finally:
            app.state.inbox = None
            await inbox.shutdown(runner)

    return inbox_running


def events_hook(factory: sessionmaker[Session], settings: Settings) -> Callable[[FastAPI], Any]:
    """The FastAPI lifespan hook that delivers events when AFTERCARE_EVENTS_URL is set.

    The worker is a task of its own on the loop: a receiver that is down or slow
    holds up only other events, never a message.
    """

    @asynccontextmanager
    async def events_delivering(app: FastAPI) -> AsyncIterator[None]:
        if not settings.events_endpoints:
            yield
            return
        worker = EventWorker(factory, settings.events_secret.get_secret_value())
        runner = asyncio.create_task(worker.run(), name="event-delivery")
        app.state.event_worker = worker
        try:
            yield
        finally:
            app.state.event_worker = None
            await worker.shutdown(runner)

    return events_delivering
