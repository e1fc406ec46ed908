"""Provider webhooks: every registered channel's, mounted from messaging/channels/registry.py.

The channel's own module verifies each request and says what it heard
(messaging/channels/webhooks.py); this module only does what each kind of news
needs, and answers fast:
- a message (`Inbound`) is stored and acknowledged at once; its turn (who wrote,
  the score, our answer) is taken after, by the inbox (conversation/inbox/);
- a delivery receipt is recorded (kept, when it overtakes the outbox);
- anything else goes to the channel's running part (the Telegram bot).

A request that is not provably from the provider is refused even when the secret
is simply not configured: a webhook must never fail open.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from clock import utcnow
from conversation.inbound import Inbound
from conversation.inbox import Inbox, store
from conversation.provider_events import record_delivery
from messaging.channels import registry
from messaging.channels.base import Receipt
from messaging.channels.webhooks import HookRequest, Refused, Webhook
from settings import Settings

log = logging.getLogger(__name__)


def webhooks_router() -> APIRouter:
    """A router with each registered channel's webhooks.

    Plain Starlette routes: the busiest, Twilio's inbound SMS, needs none of
    FastAPI's per-request machinery (about a tenth of an acknowledgement's CPU).
    """
    router = APIRouter(tags=["webhooks"], include_in_schema=False)
    for channel, hook in registry.webhooks():
        router.add_route(hook.path, _endpoint(channel, hook), methods=["POST"])
    return router


def _endpoint(channel: str, hook: Webhook) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        settings: Settings = request.app.state.settings
        query = request.url.query
        heard_request = HookRequest(
            # The URL the provider signed: what it was told (AFTERCARE_PUBLIC_URL), never the
            # one this process sees (http://127.0.0.1:8000/... behind a TLS proxy).
            url=f"{settings.public_url}{hook.path}" + (f"?{query}" if query else ""),
            headers=request.headers,
            body=await request.body(),
        )
        try:
            heard = hook.read(heard_request, settings)
        except Refused as refused:
            return JSONResponse({"detail": refused.reason}, status_code=refused.status)
        if isinstance(heard, Inbound):
            await _store(request, heard)
        elif isinstance(heard, Receipt):
            await _record(request, heard)
        elif heard is not None:
            runtime = request.app.state.channel_runtimes.get(channel)
            if runtime is None:  # the provider retries later; the bot is starting or stopped
                detail = f"the {channel} channel is not running"
                return JSONResponse({"detail": detail}, status.HTTP_503_SERVICE_UNAVAILABLE)
            await runtime.take(heard.payload)
        return Response(hook.answer, media_type=hook.media_type)

    return endpoint


async def _store(request: Request, inbound: Inbound) -> None:
    inbox: Inbox | None = getattr(request.app.state, "inbox", None)
    if inbox is not None:
        await inbox.store(inbound)
    else:  # an app served without its lifespan: whoever takes turns next finds it
        await run_in_threadpool(_in_transaction, _factory(request), lambda s: store(s, inbound))


async def _record(request: Request, receipt: Receipt) -> None:
    now = utcnow()
    # A receipt for an id the outbox has not recorded yet is kept, and applied when it is.
    await run_in_threadpool(
        _in_transaction, _factory(request), lambda s: record_delivery(s, now, receipt)
    )


def _factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def _in_transaction(factory: sessionmaker[Session], work: Callable[[Session], Any]) -> Any:
    with factory.begin() as session:
        return work(session)
