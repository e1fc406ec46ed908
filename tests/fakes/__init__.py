"""Local stand-ins for Twilio and the Telegram Bot API that speak their real HTTP APIs.

The real `twilio` and `python-telegram-bot` code runs against them, so tests
exercise URL building, auth, encoding and error parsing exactly as in
production, without touching the internet. They depend only on the stdlib and
httpx, so the demo can use them too.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

Reply = tuple[int, dict[str, str], bytes]


class _Server(ThreadingHTTPServer):
    # The stdlib's listen backlog of 5 drops the SYNs of a sender opening 32
    # connections at once; the client retransmits after 1 s, which looks like a slow
    # provider. Real providers accept them, so the fakes do too.
    request_queue_size = 128


class LocalServer:
    """A real HTTP server on 127.0.0.1 in a daemon thread; subclasses implement `handle`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # One condition guards all recorded state, so `wait_for` wakes on any change.
        self._cond = threading.Condition(threading.RLock())
        self._stopping = threading.Event()
        self._httpd = _Server((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self.base_url = f"http://{host}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}@{self.base_url}",
            daemon=True,
        )
        self._thread.start()

    def handle(self, method: str, path: str, query: str, headers: Any, body: bytes) -> Reply:
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving; wakes long polls and injected delays. Safe to call twice."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Block until `predicate()` is truthy (re-checked on every state change); return it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (result := predicate()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout}s")
                self._cond.wait(min(remaining, 0.1))
            return result

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _make_handler(owner: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so no idle keep-alive threads outlive stop().
        protocol_version = "HTTP/1.0"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                # The client died mid-request (kill -9 in the chaos test): like the real
                # providers, act on nothing that did not fully arrive.
                return
            parts = urlsplit(self.path)
            status, headers, payload = owner.handle(
                self.command, parts.path, parts.query, self.headers, body
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            # The client may have given up (an injected timeout); there is nobody to tell.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines would carry the Telegram bot token into test output

    return Handler
