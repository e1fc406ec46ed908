"""The one event loop that owns the network in a process, and the way sync code reaches it.

Provider clients (aiohttp for Twilio, httpx for Telegram) belong to the loop they
were first used on. In `run` that loop is uvicorn's: the app's lifespan lends it
with `borrowed()`. A command without a server (`tick`, tests) gets a private loop
in one background thread on first use. Sync code hands coroutines over with
`call()`; nothing ever starts a loop per call.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class Network:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._loop is not None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The owning loop (a private one is started if nobody lent theirs)."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="aftercare-network", daemon=True
                )
                self._thread.start()
            return self._loop

    @asynccontextmanager
    async def borrowed(self) -> AsyncIterator[None]:
        """Make the running loop the owner until the block ends (uvicorn's, in `run`)."""
        with self._lock:
            if self._loop is not None:
                raise RuntimeError("the network already has a loop; borrow it before first use")
            self._loop = asyncio.get_running_loop()
        try:
            yield
        finally:
            with self._lock:
                self._loop = None

    def on_loop(self) -> bool:
        """Whether the caller runs on the owning loop."""
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coroutine` on the owning loop from sync code, and wait for its result."""
        loop = self.loop
        if self.on_loop():
            coroutine.close()
            raise RuntimeError("Network.call() from the network's own loop; await instead")
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)

    def stop(self) -> None:
        """Stop a private loop (a borrowed one belongs to its owner)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            if thread is None or loop is None:
                return
            self._loop, self._thread = None, None
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


# One event loop owns the network in a process: every Transports shares this one.
NETWORK = Network()
