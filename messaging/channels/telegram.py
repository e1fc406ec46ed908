"""The Telegram channel: python-telegram-bot's `Bot`, used from sync code through the loop that owns it.

PTB is async and its HTTP client belongs to one event loop. In `run` that loop
is uvicorn's: the bot's lifespan hook enters `running_here()`, and every
`send` from the scheduler thread is handed to it with
`run_coroutine_threadsafe`. Without a server (`bot.py tick`) the channel
starts one private loop in a background thread on first use. No loop is ever
created per call.

Telegram's error strings live here and become `SendError`s the outbox understands.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from messaging.channels.base import Buttons, SendError, SendResult
from settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API = "https://api.telegram.org"
# Long enough for the rate limiter's short waits plus PTB's own HTTP timeouts.
SEND_TIMEOUT = 30.0
# A 403 means the user blocked the bot, deleted their account or never started it;
# "chat not found" is the 400 for an id Telegram does not know. Both are final.
UNREACHABLE_400 = ("chat not found", "user not found", "peer_id_invalid")
# httpx errors raised after the request left: Telegram may have delivered it.
AFTER_SENDING = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.RemoteProtocolError)


def make_bot(settings: Settings, *, poll_timeout: float = 30.0) -> Bot:
    """A Bot for TELEGRAM_BOT_TOKEN, pointed at TELEGRAM_API_BASE_URL when set."""
    _keep_token_out_of_logs()
    base = (settings.telegram_api_base_url or DEFAULT_API).rstrip("/")
    return Bot(
        settings.telegram_bot_token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(connection_pool_size=16, read_timeout=10.0, pool_timeout=3.0),
        # Long polls get a connection of their own so they never starve sends.
        get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=poll_timeout + 10),
    )


def _keep_token_out_of_logs() -> None:
    # Bot API URLs carry the token: httpx logs each one at INFO, PTB logs them at DEBUG.
    for name, quietest in (
        ("httpx", logging.WARNING),
        ("httpcore", logging.WARNING),
        ("telegram", logging.INFO),
    ):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < quietest:
            logger.setLevel(quietest)


def keyboard(buttons: Buttons | None) -> InlineKeyboardMarkup | None:
    """Our buttons as an inline keyboard: `data` comes back in a callback, `url` opens a link."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.text, url=b.url)
                if b.url
                else InlineKeyboardButton(b.text, callback_data=b.data or b.text)
                for b in row
            ]
            for row in buttons
        ]
    )


class RateLimiter:
    """Telegram's limits: about 30 messages a second in all, and one a second per chat.

    It runs on the bot's loop only, so it needs no lock: nothing awaits between
    the check and the booking. A 429 pauses everything for the time Telegram asked.
    """

    def __init__(
        self,
        per_second: int = 30,
        per_chat: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second, self.per_chat, self.clock = per_second, per_chat, clock
        self._recent: deque[float] = deque(maxlen=per_second)
        self._chat_free_at: dict[int, float] = {}
        self._paused_until = 0.0

    def paused_for(self) -> float:
        """Seconds left of a pause Telegram imposed (0 when none)."""
        return max(0.0, self._paused_until - self.clock())

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    async def acquire(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` stays within both limits, and book it."""
        while True:
            now = self.clock()
            wait = self._chat_free_at.get(chat_id, 0.0) - now
            if len(self._recent) == self.per_second:
                wait = max(wait, self._recent[0] + 1.0 - now)
            if wait <= 0:
                self._recent.append(now)
                self._chat_free_at[chat_id] = now + self.per_chat
                if len(self._chat_free_at) > 10_000:
                    self._forget_before(now)
                return
            await asyncio.sleep(wait)

    def _forget_before(self, now: float) -> None:
        self._chat_free_at = {c: t for c, t in self._chat_free_at.items() if t > now}


@dataclass
class _Home:
    """A loop and the one Bot that lives on it; `thread` is set when the loop is ours."""

    loop: asyncio.AbstractEventLoop
    bot: Bot
    thread: threading.Thread | None = None

    def close(self) -> None:
        """Shut a private loop down (the owner of a borrowed loop shuts its bot itself)."""
        if self.thread is None or self.loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.bot.shutdown(), self.loop).result(5)
        except Exception:  # noqa: BLE001 - closing: nothing left to save
            log.debug("telegram bot shutdown failed", exc_info=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


class TelegramChannel:
    """Sends Telegram messages to chat ids, within Telegram's rate limits."""

    name = "telegram"

    def __init__(
        self,
        settings: Settings,
        *,
        send_timeout: float = SEND_TIMEOUT,
        limiter: RateLimiter | None = None,
    ) -> None:
        if not settings.telegram_configured:
            raise ValueError("TELEGRAM_BOT_TOKEN must be set")
        self._settings = settings
        self._send_timeout = send_timeout
        self.limiter = limiter or RateLimiter()
        self._home: _Home | None = None
        self._lock = threading.Lock()

    # -- which loop owns the bot -------------------------------------------------

    @asynccontextmanager
    async def running_here(self) -> AsyncIterator[Bot]:
        """Serve every send from the running loop (uvicorn's) until the block ends; yield its Bot."""
        home = _Home(asyncio.get_running_loop(), make_bot(self._settings))
        with self._lock:
            previous, self._home = self._home, home
        if previous is not None:
            await asyncio.to_thread(previous.close)
        try:
            yield home.bot
        finally:
            with self._lock:
                if self._home is home:
                    self._home = None
            await home.bot.shutdown()

    def close(self) -> None:
        """Stop the private loop, if this channel started one."""
        with self._lock:
            home = self._home if self._home is not None and self._home.thread else None
            if home is not None:
                self._home = None
        if home is not None:
            home.close()

    def _home_for_sync_caller(self) -> _Home:
        with self._lock:
            if self._home is None:
                self._home = self._start_private_loop()
            return self._home

    def _start_private_loop(self) -> _Home:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="telegram-bot-loop", daemon=True)
        thread.start()
        home = _Home(loop, make_bot(self._settings), thread)
        atexit.register(home.close)
        return home

    # -- sending -----------------------------------------------------------------

    def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        """Send from any thread but the bot's own: the work runs on the bot's loop."""
        home = self._home_for_sync_caller()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is home.loop:
            raise RuntimeError("TelegramChannel.send() on the bot's own loop; await send_async()")
        future = asyncio.run_coroutine_threadsafe(
            self._send(home.bot, to, text, buttons), home.loop
        )
        try:
            return future.result(timeout=self._send_timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise SendError(
                "no answer from Telegram in time", permanent=False, uncertain=True
            ) from None

    async def send_async(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        """Send from a coroutine already running on the bot's loop."""
        home = self._home
        if home is None or home.loop is not asyncio.get_running_loop():
            raise RuntimeError("send_async() must run on the loop that owns the bot")
        return await self._send(home.bot, to, text, buttons)

    async def _send(self, bot: Bot, to: str, text: str, buttons: Buttons | None) -> SendResult:
        chat_id = _chat_id(to)
        paused = self.limiter.paused_for()
        if paused > 0:
            # Honour Telegram's flood wait without asking again: the outbox comes back later.
            raise SendError(
                f"Telegram asked us to wait {paused:.1f}s", permanent=False, retry_after=paused
            )
        await self.limiter.acquire(chat_id)
        try:
            await bot.initialize()
            message = await bot.send_message(chat_id, text, reply_markup=keyboard(buttons))
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            self.limiter.pause(seconds)
            raise SendError(
                f"Telegram rate limit: retry after {seconds:g}s",
                permanent=False,
                code="429",
                retry_after=seconds,
            ) from None
        except TelegramError as error:
            raise send_error(error, self._settings.telegram_bot_token) from None
        return SendResult(provider_id=f"{chat_id}:{message.message_id}")


def send_error(error: TelegramError, token: str = "") -> SendError:
    """Classify a PTB error for the outbox (order matters: BadRequest is a NetworkError)."""
    text = redact(f"Telegram: {error.message}", token)
    lowered = error.message.lower()
    if isinstance(error, Forbidden):
        return SendError(text, permanent=True, code="403", unreachable=True)
    if isinstance(error, BadRequest):
        unreachable = any(phrase in lowered for phrase in UNREACHABLE_400)
        return SendError(text, permanent=True, code="400", unreachable=unreachable)
    if isinstance(error, InvalidToken):
        return SendError(text, permanent=False, code="401")  # ours to fix; keep the messages
    if isinstance(error, TimedOut | NetworkError):
        if isinstance(error.__cause__, AFTER_SENDING):
            return SendError(text, permanent=False, uncertain=True)
        return SendError(text, permanent=False)
    return SendError(text, permanent=False)


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that `retry_after` becomes a timedelta; accept either.
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def redact(text: str, token: str) -> str:
    """`text` without the bot token (PTB puts it in some messages)."""
    return text.replace(token, "<token>") if token else text


def _chat_id(to: str) -> int:
    try:
        return int(to)
    except ValueError:
        raise SendError(f"not a Telegram chat id: {to!r}", permanent=True, code="chat_id") from None
