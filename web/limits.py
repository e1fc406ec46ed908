"""Request bodies are capped before anything reads them.

A webhook or the login form parses its body before it can know who sent it;
without a cap, a 300 MB unsigned form costs a gigabyte of memory and seconds of
CPU before its 403. The cap is checked on the declared Content-Length at once,
and on the bytes as they arrive (a chunked body declares none).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Twilio's and Telegram's webhooks and the login form are a few kilobytes at most.
SMALL_BODIES = ("/webhooks/", "/admin/login")
SMALL_LIMIT = 64 * 1024
# CSV uploads in the admin UI: a file of tens of thousands of customers.
LARGE_BODIES = ("/admin/import/",)
LARGE_LIMIT = 6 * 1024 * 1024
# Everything else: admin forms, template edits, the JSON API.
DEFAULT_LIMIT = 1024 * 1024


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: 413, with nothing read or stored, past a path's body limit."""

    def __init__(self, app: ASGIApp, *, small: int = SMALL_LIMIT, default: int = DEFAULT_LIMIT):
        self.app, self.small, self.default = app, small, default

    def limit_for(self, path: str) -> int:
        if path.startswith(SMALL_BODIES):
            return self.small
        return LARGE_LIMIT if path.startswith(LARGE_BODIES) else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = f"Request body too large (at most {limit // 1024} KB here).".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
