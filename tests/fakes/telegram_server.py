"""A fake Telegram Bot API for the real python-telegram-bot.

Point a bot at it with `Bot(token, base_url=f"{fake.base_url}/bot",
base_file_url=f"{fake.base_url}/file/bot")`; calls go to {base}/bot{token}/{method}.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import re
import secrets
import time
from email import policy
from email.parser import BytesParser
from typing import Any, cast
from urllib.parse import parse_qsl

import httpx

from tests.fakes import LocalServer, Reply

# PTB posts form fields, JSON-encoding every non-string value; these fields are
# plain strings and must stay strings even when they look like JSON ("42", "true").
STRING_FIELDS = {
    "text", "caption", "url", "secret_token", "callback_query_id", "inline_message_id",
    "parse_mode", "action", "ip_address", "language_code", "emoji", "data",
}  # fmt: skip
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
HARMLESS = {
    "deletemessage", "deletemycommands", "setchatmenubutton", "setmydescription",
    "setmyshortdescription", "setmyname", "setmessagereaction", "close", "logout",
}  # fmt: skip
# The real API's wording: PTB picks exception classes by status and shows the description.
ERRORS = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "no_chat": (400, "Bad Request: chat not found"),
    "empty_text": (400, "Bad Request: message text is empty"),
    "too_long": (400, "Bad Request: message is too long"),
    "no_message": (400, "Bad Request: message to edit not found"),
    "not_editable": (400, "Bad Request: message can't be edited"),
    "not_modified": (400, "Bad Request: message is not modified: specified new message content "
                     "and reply markup are exactly the same as a current content and reply "
                     "markup of the message"),
    "bad_button": (400, "Bad Request: BUTTON_DATA_INVALID"),
    "bad_query": (400, "Bad Request: query is too old and response timeout expired or query "
                  "ID is invalid"),
    "http_webhook": (400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"),
    "bad_secret": (400, "Bad Request: secret token contains unallowed characters"),
    "webhook_active": (409, "Conflict: can't use getUpdates method while webhook is active; "
                       "use deleteWebhook to delete the webhook first"),
    "other_poll": (409, "Conflict: terminated by other getUpdates request; make sure that "
                   "only one bot instance is running"),
    "no_method": (404, "Not Found"),
}  # fmt: skip


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    @classmethod
    def of(cls, key: str) -> ApiError:
        return cls(*ERRORS[key])


class FakeTelegram(LocalServer):
    """Serves {base}/bot{token}/{method} with the Bot API's JSON envelope and errors."""

    def __init__(self, token: str, username: str = "AftercareTestBot", host="127.0.0.1", port=0):
        self.token, self.username = token, username
        self.bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 100000
        self._calls: list[tuple[str, dict[str, Any]]] = []
        self._sent: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []  # unconfirmed, for getUpdates
        self._update_ids = itertools.count(700000001)
        self._message_ids: dict[int, itertools.count] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._chat_errors: dict[int, str] = {}
        self._rate_limits: list[tuple[int, str | None]] = []
        self._callback_ids: set[str] = set()
        self._poll_generation = 0
        self.webhook: dict[str, Any] = {"url": "", "secret_token": None}
        self.commands: list[dict[str, Any]] = []
        super().__init__(host, port)

    # -- recorded state and failure injection -----------------------------------

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """Every authorised API call as (method, decoded params), oldest first."""
        with self._cond:
            return list(self._calls)

    @property
    def sent(self) -> list[dict[str, Any]]:
        """What the bot did to chats: sendMessage, edits and callback answers, oldest first."""
        with self._cond:
            return [dict(s) for s in self._sent]

    def block_chat(self, chat_id: int) -> None:
        self._set_chat_error(chat_id, "blocked")

    def deactivate_chat(self, chat_id: int) -> None:
        self._set_chat_error(chat_id, "deactivated")

    def missing_chat(self, chat_id: int) -> None:
        self._set_chat_error(chat_id, "no_chat")

    def clear_chat(self, chat_id: int) -> None:
        """Undo block/deactivate/missing: the user came back."""
        with self._cond:
            self._chat_errors.pop(chat_id, None)

    def rate_limit_next(self, retry_after: int = 1, times: int = 1, method: str | None = None):
        """The next `times` calls (of `method`, or of anything but getUpdates) get a 429."""
        with self._cond:
            self._rate_limits += [(retry_after, method and method.lower())] * times

    def _set_chat_error(self, chat_id: int, key: str) -> None:
        with self._cond:
            self._chat_errors[chat_id] = key

    # -- update builders and delivery ---------------------------------------------

    def text_update(
        self,
        chat_id: int,
        text: str,
        first_name: str = "Test",
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """A private-chat text message; a leading /command gets its bot_command entity."""
        message = self._user_message(chat_id, first_name, username, language_code)
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            # Entity offsets count UTF-16 code units, like the real API.
            length = len(command.encode("utf-16-le")) // 2
            message["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
        return self._update(message=message)

    def contact_update(
        self, chat_id: int, phone_number: str, first_name: str = "Test", user_id: int | None = None
    ) -> dict[str, Any]:
        """The user shares a contact; user_id None means their own (user_id == chat_id).

        Telegram usually sends the number without a leading "+", so pass it that way.
        """
        message = self._user_message(chat_id, first_name, None, None)
        message["contact"] = {
            "phone_number": phone_number,
            "first_name": first_name,
            "user_id": chat_id if user_id is None else user_id,
        }
        return self._update(message=message)

    def callback_update(self, chat_id: int, data: str, message_id: int) -> dict[str, Any]:
        """The user taps an inline button with `data` under the bot's message `message_id`."""
        with self._cond:
            chat = self._chat(chat_id)
            message = copy.deepcopy(self._messages.get((chat_id, message_id))) or {
                "message_id": message_id,
                "from": self._me(),
                "chat": chat,
                "date": int(time.time()),
                "text": "",
            }
            query_id = str(secrets.randbelow(10**18) + 10**18)
            self._callback_ids.add(query_id)
        user = {"id": chat_id, "is_bot": False, "first_name": chat.get("first_name", "Test")}
        return self._update(
            callback_query={
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": str(-chat_id * 7919),
                "data": data,
            }
        )

    def queue_update(self, update: dict[str, Any]) -> None:
        """Make `update` available to getUpdates (long polls wake at once)."""
        with self._cond:
            self._updates.append(update)
            self._cond.notify_all()

    def post_update(
        self, webhook_url: str, update: dict[str, Any], secret: str | None = None
    ) -> tuple[int, str]:
        """POST `update` to our webhook as Telegram does; returns (status_code, text)."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        with httpx.Client(trust_env=False, timeout=10) as client:
            response = client.post(webhook_url, json=update, headers=headers)
        return response.status_code, response.text

    def _update(self, **content: Any) -> dict[str, Any]:
        with self._cond:
            if "message" in content:  # so the bot's attempts to edit it fail as they would
                message = content["message"]
                self._messages[(message["chat"]["id"], message["message_id"])] = message
            return {"update_id": next(self._update_ids), **copy.deepcopy(content)}

    def _user_message(self, chat_id, first_name, username, language_code) -> dict[str, Any]:
        user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": first_name}
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
        if username:
            user["username"] = chat["username"] = username
        if language_code:
            user["language_code"] = language_code
        with self._cond:
            self._chats[chat_id] = chat
            message_id = self._next_message_id(chat_id)
        return {
            "message_id": message_id,
            "from": user,
            "chat": dict(chat),
            "date": int(time.time()),
        }

    # -- the HTTP API ---------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, headers: Any, body: bytes) -> Reply:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", path)
        if not match:
            return _reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if match.group(1) != self.token:
            return _reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        name = match.group(2)
        params = _decode(query, headers.get("Content-Type", ""), body)
        try:
            with self._cond:
                self._calls.append((name, params))
                self._cond.notify_all()
                self._check_injected_errors(name.lower(), params)
            result = self._dispatch(name.lower(), params)
        except ApiError as err:
            payload = {"ok": False, "error_code": err.code, "description": err.description}
            if err.parameters:
                payload["parameters"] = err.parameters
            return _reply(err.code, payload)
        return _reply(200, {"ok": True, "result": result})

    def _check_injected_errors(self, name: str, params: dict[str, Any]) -> None:
        for i, (retry_after, method) in enumerate(self._rate_limits):
            if method == name or (method is None and name != "getupdates"):
                del self._rate_limits[i]
                description = f"Too Many Requests: retry after {retry_after}"
                raise ApiError(429, description, {"retry_after": retry_after})
        chat_id = _chat_id(params.get("chat_id"))
        if chat_id in self._chat_errors:
            raise ApiError.of(self._chat_errors[chat_id])

    def _dispatch(self, name: str, p: dict[str, Any]) -> Any:
        if name == "getupdates":
            return self._get_updates(p)  # waits, so it takes the lock itself
        handler = {
            "getme": lambda p: self._me(full=True),
            "sendmessage": self._send_message,
            "editmessagetext": self._edit,
            "editmessagereplymarkup": self._edit,
            "answercallbackquery": self._answer_callback_query,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": lambda p: {
                "url": self.webhook["url"],
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            },
            "setmycommands": self._set_my_commands,
            "getmycommands": lambda p: self.commands,
            "sendchataction": lambda p: _require(p, "chat_id", "action"),
        }.get(name, (lambda p: True) if name in HARMLESS else None)
        if handler is None:
            raise ApiError.of("no_method")
        with self._cond:
            self._cond.notify_all()
            return handler(p)

    def _send_message(self, p: dict[str, Any]) -> dict[str, Any]:
        _require(p, "chat_id")
        chat_id, text = _chat_id(p["chat_id"]), p.get("text") or ""
        if not text.strip() or len(text) > 4096:
            raise ApiError.of("empty_text" if not text.strip() else "too_long")
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": self._me(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        markup = _checked_markup(p["reply_markup"]) if p.get("reply_markup") else {}
        if "inline_keyboard" in markup:  # reply keyboards are not echoed back in Message
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        self._record("sendMessage", p, chat_id=chat_id, message_id=message["message_id"])
        return copy.deepcopy(message)

    def _edit(self, p: dict[str, Any]) -> Any:
        method = "editMessageText" if "text" in p else "editMessageReplyMarkup"
        if p.get("inline_message_id"):
            self._record(method, p)
            return True
        _require(p, "chat_id", "message_id")
        chat_id, message_id = _chat_id(p["chat_id"]), int(p["message_id"])
        message = self._messages.get((chat_id, message_id))
        if message is None or not message["from"]["is_bot"]:
            raise ApiError.of("no_message" if message is None else "not_editable")
        # Editing without reply_markup removes the keyboard, as the real API does.
        markup = _checked_markup(p["reply_markup"]) if p.get("reply_markup") else None
        text = p.get("text", message["text"])
        if text == message["text"] and markup == message.get("reply_markup"):
            raise ApiError.of("not_modified")
        message.update(text=text, edit_date=int(time.time()))
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        self._record(method, p, chat_id=chat_id, message_id=message_id, text=text)
        return copy.deepcopy(message)

    def _answer_callback_query(self, p: dict[str, Any]) -> bool:
        query_id = p.get("callback_query_id")
        if query_id not in self._callback_ids:
            raise ApiError.of("bad_query")
        self._record("answerCallbackQuery", p, callback_query_id=query_id)
        return True

    def _set_my_commands(self, p: dict[str, Any]) -> bool:
        self.commands = list(p.get("commands") or [])
        return True

    def _delete_webhook(self, p: dict[str, Any]) -> bool:
        self.webhook = {"url": "", "secret_token": None}
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _set_webhook(self, p: dict[str, Any]) -> bool:
        url, secret = p.get("url") or "", p.get("secret_token")
        if url and not url.startswith("https://"):
            raise ApiError.of("http_webhook")
        if secret is not None and not SECRET_TOKEN.match(secret):
            raise ApiError.of("bad_secret")
        self.webhook = {"url": url, "secret_token": secret}
        return True

    def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        with self._cond:
            if self.webhook["url"]:
                raise ApiError.of("webhook_active")
            # An offset confirms (forgets) every earlier update; negative counts from the end.
            if offset < 0:
                del self._updates[:offset]
            elif offset:
                self._updates[:] = [u for u in self._updates if u["update_id"] >= offset]
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            while not self._updates and not self._stopping.is_set():
                if self._poll_generation != generation:
                    raise ApiError.of("other_poll")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.1))
            return copy.deepcopy(self._updates[:limit])

    def _record(self, method: str, p: dict[str, Any], **fields: Any) -> None:
        entry = {
            "method": method,
            "chat_id": None,
            "text": p.get("text"),
            "message_id": None,
            "at": time.monotonic(),
        }
        entry.update(reply_markup=p.get("reply_markup"), **fields)
        self._sent.append(entry)

    def _me(self, full: bool = False) -> dict[str, Any]:
        me = {"id": self.bot_id, "is_bot": True, "first_name": "Aftercare"}
        me["username"] = self.username
        if full:
            me |= {"can_join_groups": True, "can_read_all_group_messages": False}
        return me

    def _chat(self, chat_id: int) -> dict[str, Any]:
        return dict(
            self._chats.get(chat_id) or {"id": chat_id, "type": "private", "first_name": "Test"}
        )

    def _next_message_id(self, chat_id: int) -> int:
        # Private chats share one counter between the user's and the bot's messages.
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))


def _decode(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Bot API parameters from the query string and a JSON, form or multipart body."""
    fields: dict[str, Any] = dict(parse_qsl(query))
    if content_type.startswith("application/json"):
        return {**fields, **json.loads(body or b"{}")}
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields.update(parse_qsl(body.decode(), keep_blank_values=True))
    elif content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        for part in BytesParser(policy=policy.HTTP).parsebytes(head + body).iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            payload = cast(bytes, part.get_payload(decode=True))
            fields[name] = payload if part.get_filename() else payload.decode()
    for key, value in fields.items():
        if key not in STRING_FIELDS and isinstance(value, str):
            with contextlib.suppress(ValueError):  # e.g. chat_id "@channel" stays a string
                fields[key] = json.loads(value)
    return fields


def _checked_markup(markup: Any) -> dict[str, Any]:
    markup = json.loads(markup) if isinstance(markup, str) else markup
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise ApiError.of("bad_button")
    return markup


def _chat_id(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def _require(p: dict[str, Any], *names: str) -> bool:
    for name in names:
        if p.get(name) in (None, ""):
            raise ApiError(400, f"Bad Request: {name} is empty")
    return True


def _reply(status: int, payload: Any) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()
