"""The Telegram bot inside `run`: updates in (webhook or long polling), translated for `receive`.

The bot lives on uvicorn's event loop, which owns the network in `run`: the
lifespan hook enters `TelegramBot.running()`, which receives with the
channel's own `Bot` (the outbox sends with it too).
With TELEGRAM_WEBHOOK_SECRET set it registers our webhook (with that secret)
and updates arrive at POST /webhooks/telegram; without it one process at a
time long-polls, chosen by a lease in the database.

Every update goes the same way: `translate` (a PTB Update into our words),
`apply` (one transaction, once per update_id: linking or `receive`), then the
Telegram-side touches (answer the button press, take the keyboard away).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import RetryAfter, TelegramError

from clock import utcnow
from conversation.inbound import Inbound, receive
from conversation.linking import link_by_phone, link_by_token
from conversation.provider_events import Once, keep_failed_update, process_once
from messaging import leases
from messaging.channels.telegram import WEBHOOK_PATH, TelegramChannel, redact, retry_after_seconds
from settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
POLL_LEASE = "telegram-poller"
# A polled update is tried this many times, then kept for an admin and passed over.
POLL_ATTEMPTS = 5
_START = re.compile(r"^/start(?:@\w+)?\s+(\S+)\s*$")
_COMMAND_MENTION = re.compile(r"^(/\w+)@\w+")
_SCORE = re.compile(r"^score:(\d{1,20}):(\d{1,3})$")
# Ids are 64-bit integers in every database.
MAX_ID = 2**63 - 1
_REP_BUTTON = re.compile(r"^(ack|resolve):(\d+)$")


@dataclass(frozen=True)
class Incoming:
    """One update in our words. `kind`: "text", "start_token", "contact" or "button"."""

    update_id: int
    chat_id: int
    kind: str
    text: str = ""
    token: str = ""
    phone: str = ""
    button_score: tuple[int, int] | None = None
    sender_name: str = ""
    sender_language: str = ""

    def inbound(self, now: datetime, text: str | None = None) -> Inbound:
        return Inbound(
            channel="telegram",
            address=str(self.chat_id),
            text=self.text if text is None else text,
            provider_id=f"tg:{self.update_id}",
            received_at=now,
            button_score=self.button_score,
            sender_name=self.sender_name,
            sender_language=self.sender_language,
        )


def translate(update: Update) -> Incoming | None:
    """What a private chat did; None for anything we do not act on (groups, stickers, edits)."""
    query, message = update.callback_query, update.message
    chat = (query.message.chat if query and query.message else None) or update.effective_chat
    user = update.effective_user
    if chat is None or chat.type != "private" or user is None or user.is_bot:
        return None
    said = Incoming(
        update_id=update.update_id,
        chat_id=chat.id,
        kind="text",
        sender_name=user.full_name,
        sender_language=user.language_code or "",
    )
    if query is not None:
        data = str(query.data or "")
        if score := _SCORE.match(data):
            checkin_id, value = int(score[1]), int(score[2])
            if not (0 < checkin_id <= MAX_ID and 0 <= value <= 10):
                # Not a button we made (a forged or mangled callback): an unreadable
                # reply, asked about again, never a score or a database error.
                return replace(said, kind="text", text="")
            return replace(said, kind="button", button_score=(checkin_id, value))
        if rep := _REP_BUTTON.match(data):
            # The escalation commands read these exactly as a typed "/ack 12".
            return replace(said, text=f"/{rep[1]} {rep[2]}")
        return None
    if message is None:
        return None
    if message.contact is not None:
        if message.contact.user_id != user.id:
            return None  # someone else's card: it proves nothing about this chat
        return replace(said, kind="contact", phone=message.contact.phone_number)
    text = (message.text or message.caption or "").strip()
    if not text:
        return None
    if start := _START.match(text):
        return replace(said, kind="start_token", token=start[1], text="/start")
    # "/stop@AftercareBot" -> "/stop": receive() understands the bare commands.
    return replace(said, text=_COMMAND_MENTION.sub(r"\1", text))


def apply(
    factory: sessionmaker[Session], settings: Settings, now: datetime, incoming: Incoming
) -> Once[str]:
    """Act on one update in one transaction, once per update_id; the result says what was done."""
    return process_once(
        factory,
        source="telegram",
        key=str(incoming.update_id),
        now=now,
        work=lambda session: _act(session, settings, now, incoming),
    )


def _act(session: Session, settings: Settings, now: datetime, incoming: Incoming) -> str:
    if incoming.kind == "start_token":
        linked = link_by_token(session, incoming.chat_id, incoming.token, now, settings)
        if linked.linked and not linked.opted_out:
            return "linked"
        # A stale token, or a customer who had opted out: /start is Telegram's START.
    elif incoming.kind == "contact":
        linked = link_by_phone(session, incoming.chat_id, incoming.phone, now, settings)
        if linked.linked:
            return "linked"
        # Keep the number for whoever reads messages from strangers.
        return receive(session, now, incoming.inbound(now, text=incoming.phone), settings).action
    return receive(session, now, incoming.inbound(now), settings).action


class TelegramBot:
    """Receives updates for one token and settles button presses; the channel sends."""

    def __init__(
        self,
        channel: TelegramChannel,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        on_username: Callable[[str], None] | None = None,
        poll_timeout: float = 25.0,
        lease_ttl: timedelta = timedelta(seconds=60),
        retry_seconds: float = 5.0,
    ) -> None:
        self.channel, self.factory, self.settings = channel, factory, settings
        self.on_username = on_username
        self.poll_timeout, self.lease_ttl, self.retry_seconds = (
            poll_timeout,
            lease_ttl,
            retry_seconds,
        )
        self.holder = f"{socket.gethostname()}:{secrets.token_hex(4)}"
        self.ready = threading.Event()  # set once the webhook is registered or polling began
        self.polling = False
        self._bot: Bot | None = None

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            raise RuntimeError("the Telegram bot is not running")
        return self._bot

    @property
    def webhook_mode(self) -> bool:
        return bool(self.settings.telegram_webhook_secret.get_secret_value())

    @asynccontextmanager
    async def running(self) -> AsyncIterator[TelegramBot]:
        """Receive on the current loop until the block ends (in `run`: uvicorn's lifespan).

        The Bot itself is the channel's, closed with the transports after the sender stops.
        """
        # The channel's Bot, on this loop (the network's): one HTTP client for both sides.
        self._bot = self.channel.bot
        task = asyncio.create_task(self._serve(), name="telegram-bot")
        try:
            yield self
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            if not self.webhook_mode:  # let a waiting process take over at once
                await asyncio.to_thread(self._release_lease)
            self._bot = None

    # -- updates ------------------------------------------------------------------

    def parse(self, data: Any) -> Update | None:
        """A webhook body as a PTB Update; None when it is not one."""
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or not 0 <= update_id <= MAX_ID:
            return None
        try:
            return Update.de_json(data, self.bot)
        except (KeyError, TypeError, ValueError, OverflowError, RecursionError):
            return None

    async def take(self, payload: Any) -> None:
        """A webhook's update, verified by the channel (messaging/channels/telegram.py)."""
        update = self.parse(payload)
        if update is None:
            # Verified, yet not an update: refusing would only make Telegram send it again.
            log.warning("ignored a Telegram webhook body that is not an update")
            return
        await self.process(update)

    async def process(self, update: Update) -> bool:
        """Handle one update; False when it was a repeat or nothing to act on."""
        incoming = translate(update)
        if incoming is None:
            if update.callback_query is not None:
                await self._answer(update.callback_query)
            return False
        done = await asyncio.to_thread(apply, self.factory, self.settings, utcnow(), incoming)
        if done.duplicate:
            return False
        if update.callback_query is not None:
            await self._settle(update.callback_query)
        return True

    async def _settle(self, query: CallbackQuery) -> None:
        """Stop the button's spinner, and take away what must not be pressed twice."""
        await self._answer(query)
        message = query.message
        markup = getattr(message, "reply_markup", None)
        if message is None or not isinstance(markup, InlineKeyboardMarkup):
            return
        # After an acknowledgement only "resolve" is left; after anything else, nothing.
        keep = (
            [
                [b for b in row if not str(b.callback_data or "").startswith("ack:")]
                for row in markup.inline_keyboard
            ]
            if str(query.data or "").startswith("ack:")
            else []
        )
        rows = [row for row in keep if row]
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=message.chat.id,
                message_id=message.message_id,
                reply_markup=InlineKeyboardMarkup(rows) if rows else None,
            )
        except TelegramError as error:  # too old to edit, or already edited: harmless
            log.info("could not update the keyboard: %s", self._redact(error))

    async def _answer(self, query: CallbackQuery) -> None:
        try:
            await self.bot.answer_callback_query(query.id)
        except TelegramError as error:
            log.info("could not answer a button press: %s", self._redact(error))

    # -- start-up: webhook or polling ---------------------------------------------------

    async def _serve(self) -> None:
        await self._until_done(self.channel.ready_bot, "connect to Telegram")
        if self.on_username is not None and self.bot.username:
            self.on_username(self.bot.username)
        if self.webhook_mode:
            await self._until_done(self._set_webhook, "register the webhook")
            self.ready.set()
        else:
            await self._poll_forever()

    async def _set_webhook(self) -> None:
        await self.bot.set_webhook(
            url=f"{self.settings.public_url}{WEBHOOK_PATH}",
            secret_token=self.settings.telegram_webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )

    async def _until_done(self, step: Callable[[], Any], what: str) -> None:
        delay = self.retry_seconds
        while True:
            try:
                await step()
                return
            except RetryAfter as error:
                await asyncio.sleep(retry_after_seconds(error))
            except TelegramError as error:
                log.error("cannot %s, retrying in %.0fs: %s", what, delay, self._redact(error))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300)

    async def _poll_forever(self) -> None:
        offset: int | None = None
        failures: dict[int, int] = {}
        while True:
            try:
                offset = await self._poll_once(offset, failures)
            except Exception:  # the database or the network: keep the poller alive
                log.exception("telegram polling failed; retrying")
                await asyncio.sleep(self.retry_seconds)

    async def _poll_once(self, offset: int | None, failures: dict[int, int]) -> int | None:
        """One long poll, if this process holds the lease; returns the next offset."""
        if not await asyncio.to_thread(self._hold_lease):
            self.polling = False
            await asyncio.sleep(self.retry_seconds)  # another process polls
            return offset
        if not self.polling:
            # A webhook left over from an earlier configuration blocks getUpdates.
            await self._until_done(self.bot.delete_webhook, "remove the webhook")
            self.polling = True
            self.ready.set()
        try:
            updates = await self.bot.get_updates(
                offset=offset, timeout=int(self.poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
        except RetryAfter as error:
            await asyncio.sleep(retry_after_seconds(error))
            return offset
        except TelegramError as error:  # also Conflict: a webhook, or a poller whose lease lapsed
            log.warning("getUpdates failed: %s", self._redact(error))
            await asyncio.sleep(self.retry_seconds)
            return offset
        for update in updates:
            if not await self._process_polled(update, failures):
                break  # not confirmed: it comes back in the next getUpdates
            offset = update.update_id + 1
        return offset

    async def _process_polled(self, update: Update, failures: dict[int, int]) -> bool:
        """Handle a polled update; False to have it polled again (it failed, not for good yet).

        After POLL_ATTEMPTS failures it is kept, whole, with why (if that cannot be
        written either, it raises and the update is polled again), and polling moves on.
        """
        try:
            await self.process(update)
        except Exception as error:
            count = failures[update.update_id] = failures.get(update.update_id, 0) + 1
            if count < POLL_ATTEMPTS:
                log.exception("update %s failed (attempt %d), retrying", update.update_id, count)
                await asyncio.sleep(self.retry_seconds)
                return False
            log.exception("update %s failed %d times; kept for an admin", update.update_id, count)
            await asyncio.to_thread(self._keep_failed, update, self._summary(error), count)
        failures.pop(update.update_id, None)
        return True

    def _keep_failed(self, update: Update, error: str, attempts: int) -> None:
        with self.factory.begin() as session:
            keep_failed_update(
                session,
                utcnow(),
                update_id=update.update_id,
                payload=json.loads(update.to_json()),
                error=error,
                attempts=attempts,
            )

    def _summary(self, error: Exception) -> str:
        """What went wrong, in a line: a database error's own words, without the SQL and its
        parameters (a customer's text and number), and never the bot token."""
        cause = getattr(error, "orig", None) or error
        first = next(iter(str(cause).strip().splitlines()), "")
        return self._redact(f"{type(error).__name__}: {first}")[:500]

    def _hold_lease(self) -> bool:
        with self.factory.begin() as session:
            return leases.hold(session, POLL_LEASE, self.holder, utcnow(), self.lease_ttl)

    def _release_lease(self) -> None:
        try:
            with self.factory.begin() as session:
                leases.release(session, POLL_LEASE, self.holder)
        except Exception:  # shutting down: the lease simply expires instead
            log.warning("could not release the Telegram polling lease", exc_info=True)

    def _redact(self, error: Exception | str) -> str:
        return redact(str(error), self.settings.telegram_bot_token.get_secret_value())
