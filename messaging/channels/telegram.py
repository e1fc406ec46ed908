"""The Telegram channel: python-telegram-bot's async `Bot`, on the loop that owns the network.

PTB's HTTP client belongs to one event loop: the `Network`'s (uvicorn's in
`run`, a private one in commands). The Bot is made there on first use and
shared with the receiving side (`conversation/telegram_bot.py`).

Telegram's limits (about 30 messages a second per bot, one a second per chat)
are declared in `limits()` and kept by the outbox for every process at once.
Telegram's error strings live here and become `SendError`s the outbox understands.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import warnings
from datetime import datetime, timedelta

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

from messaging.channels.base import Buttons, ErrorKind, Limit, SendError, SendResult
from messaging.channels.webhooks import ForRuntime, HookRequest, Refused, Webhook
from settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API = "https://api.telegram.org"
WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's published limits: "no more than 30 messages per second" to different
# users, and "avoid more than one message per second" in one chat.
PER_SECOND = 30.0
PER_CHAT = 1.0
# A 403 means the user blocked the bot, deleted their account or never started it;
# "chat not found" is the 400 for an id Telegram does not know. Both are final.
UNREACHABLE_400 = ("chat not found", "user not found", "peer_id_invalid")
# httpx errors raised after the request left: Telegram may have delivered it.
AFTER_SENDING = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.RemoteProtocolError)


def make_bot(settings: Settings, *, poll_timeout: float = 30.0) -> Bot:
    """A Bot for TELEGRAM_BOT_TOKEN, pointed at TELEGRAM_API_BASE_URL when set."""
    _keep_token_out_of_logs()
    # A connection for every send the outbox may have in flight (both lanes), and a few
    # for the bot's own calls: a send never waits for a connection (that wait would look
    # like a provider timeout).
    pool = settings.sends_in_flight + 16
    base = (settings.telegram_api_base_url or DEFAULT_API).rstrip("/")
    timeout = settings.provider_timeout
    return Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(
            connection_pool_size=pool,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=min(timeout, 5.0),
            pool_timeout=timeout,
        ),
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


def read_update(request: HookRequest, settings: Settings) -> ForRuntime | None:
    """An update from the Bot API (webhook mode, when TELEGRAM_WEBHOOK_SECRET is set).

    Telegram proves itself with the secret token it was given by setWebhook; with
    no secret set, every request is refused. The update itself (a message, a
    button press, a contact) is the bot's to read: conversation/telegram_bot.py.
    """
    expected = settings.telegram_webhook_secret.get_secret_value()
    given = request.headers.get(SECRET_HEADER, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Refused("bad or missing secret token")
    try:
        return ForRuntime(json.loads(request.body))
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
        # Verified, yet unreadable: refusing would only make Telegram send it again.
        log.warning("ignored a Telegram webhook body that is not JSON")
        return None


class TelegramChannel:
    """Sends Telegram messages to chat ids."""

    name = "telegram"
    # The Bot API has no list of sent messages: a lost claim is sent again, flagged.
    can_look_up = False
    shows_buttons = True
    webhooks = (Webhook(WEBHOOK_PATH, read_update),)

    def __init__(
        self, settings: Settings, *, per_second: float = PER_SECOND, per_chat: float = PER_CHAT
    ) -> None:
        if not settings.telegram_configured:
            raise ValueError("TELEGRAM_BOT_TOKEN must be set")
        self._settings = settings
        self.per_second, self.per_chat = per_second, per_chat
        # The bot's numeric id is the token's public half: a key for the shared limits.
        self.bot_id = settings.telegram_bot_token.get_secret_value().split(":", 1)[0]
        self._bot: Bot | None = None
        self._initialised: asyncio.Lock | None = None

    @property
    def bot(self) -> Bot:
        """The one Bot, made on first use (on the network loop, whose client it keeps)."""
        if self._bot is None:
            self._bot = make_bot(self._settings)
        return self._bot

    async def ready_bot(self) -> Bot:
        """The Bot, initialised once (getMe) however many sends start at the same moment."""
        bot = self.bot
        if self._initialised is None:
            self._initialised = asyncio.Lock()
        async with self._initialised:
            await bot.initialize()
        return bot

    def limits(self, to: str) -> tuple[Limit, ...]:
        return (
            Limit(f"telegram:{self.bot_id}", self.per_second),
            Limit(f"telegram-chat:{self.bot_id}:{to}", 1.0 / self.per_chat),
        )

    async def connect(self) -> None:
        try:
            await self.ready_bot()
        except TelegramError as error:
            raise send_error(error, self._settings.telegram_bot_token.get_secret_value()) from None

    async def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        chat_id = _chat_id(to)
        try:
            bot = await self.ready_bot()
            message = await bot.send_message(chat_id, text, reply_markup=keyboard(buttons))
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            raise SendError(
                f"Telegram rate limit: retry after {seconds:g}s",
                ErrorKind.THROTTLED,
                code="429",
                retry_after=seconds,
            ) from None
        except TelegramError as error:
            raise send_error(error, self._settings.telegram_bot_token.get_secret_value()) from None
        return SendResult(provider_id=f"{chat_id}:{message.message_id}")

    async def look_up(self, to: str, text: str, since: datetime) -> list[str]:
        return []

    async def aclose(self) -> None:
        bot, self._bot, self._initialised = self._bot, None, None
        if bot is not None:
            await bot.shutdown()


def send_error(error: TelegramError, token: str = "") -> SendError:
    """Classify a PTB error for the outbox (order matters: BadRequest is a NetworkError)."""
    text = redact(f"Telegram: {error.message}", token)
    lowered = error.message.lower()
    if isinstance(error, Forbidden):
        return SendError(text, ErrorKind.UNREACHABLE, code="403")
    if isinstance(error, BadRequest):
        unreachable = any(phrase in lowered for phrase in UNREACHABLE_400)
        return SendError(
            text, ErrorKind.UNREACHABLE if unreachable else ErrorKind.PERMANENT, code="400"
        )
    if isinstance(error, InvalidToken):
        return SendError(text, ErrorKind.TRANSIENT, code="401")  # ours to fix; keep the messages
    if isinstance(error, TimedOut | NetworkError):
        if isinstance(error.__cause__, AFTER_SENDING):
            return SendError(text, ErrorKind.UNCERTAIN)
        return SendError(text, ErrorKind.TRANSIENT)
    return SendError(text, ErrorKind.TRANSIENT)


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
        raise SendError(
            f"not a Telegram chat id: {to!r}", ErrorKind.PERMANENT, code="chat_id"
        ) from None
