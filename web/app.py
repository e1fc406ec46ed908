"""The HTTP application: built by a factory, never at import, so tests and `run` choose the database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from messaging.channels import registry
from settings import Settings
from web import api, email_pages, metrics, writes
from web.admin.errors import admin_error_page
from web.limits import BodyLimit
from web.schemas import Health

LifespanHook = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def create_app(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    extra_routers: Sequence[APIRouter] = (),
    lifespan_hooks: Sequence[LifespanHook] = (),
) -> FastAPI:
    """Build the app around a session factory and settings.

    `extra_routers` (webhooks, the admin UI) are included after the core routes;
    `lifespan_hooks` are async context managers entered in order at start-up
    and left in reverse at shutdown (the Telegram bot, the scheduler thread).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for hook in lifespan_hooks:
                await stack.enter_async_context(hook(app))
            yield

    # FastAPIOffline: /docs and /redoc load Swagger UI and ReDoc from this app, not
    # from a CDN that could serve anything to a page holding the API token.
    app = FastAPIOffline(
        title=f"{settings.business_name} — Aftercare",
        summary="After-sale check-ins, NPS and escalations.",
        version="0.1.0",
        lifespan=lifespan,
        static_url="/docs/assets",
    )
    # Admin 403/404 pages are HTML for browsers; the API keeps its JSON errors.
    app.add_exception_handler(HTTPException, admin_error_page)
    # Outermost: a body past its limit is refused before any route or form parser reads it.
    app.add_middleware(BodyLimit)
    if settings.trusted_proxies.strip():
        # Only then does X-Forwarded-For say who the client is (the login throttle
        # counts per client); uvicorn's own proxy handling is off (cli/running.py).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    if settings.public_url.startswith("https://"):
        # Served over TLS (behind a proxy): browsers must never fall back to plain HTTP,
        # where the admin's session cookie would travel in the clear.
        app.add_middleware(StrictTransportSecurity)
    app.state.session_factory = session_factory
    app.state.settings = settings
    # Set from TELEGRAM_BOT_USERNAME, or later by whoever starts the bot and asks getMe.
    app.state.telegram_bot_username = settings.telegram_bot_username
    # A channel's running part, which takes the webhook news only it can act on.
    app.state.channel_runtimes = {}

    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}}, tags=["ops"])
    async def healthz() -> Any:
        """Up, and the database answers."""
        channels = registry.senders(settings)
        if await run_in_threadpool(database_answers, session_factory):
            return Health(status="ok", database="ok", channels=channels)
        return JSONResponse(
            Health(status="error", database="unavailable", channels=channels).model_dump(),
            status_code=503,
        )

    app.include_router(api.router)
    app.include_router(writes.router)
    app.include_router(metrics.router)
    app.include_router(email_pages.router)  # public: the links in survey emails
    for router in extra_routers:
        app.include_router(router)
    return app


class StrictTransportSecurity:
    """Adds HSTS to every answer (a year, subdomains included)."""

    HEADER = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.HEADER]
            await send(message)

        await self.app(scope, receive, with_header)


def database_answers(session_factory: sessionmaker[Session]) -> bool:
    """True when a trivial query succeeds."""
    try:
        with session_factory() as session:
            session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return False
    return True
