"""`run` (the production process) and `demo` (everything, locally, no credentials)."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import click
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from cli.common import configure_logging, database, load_settings, transports_for
from messaging.channels import Transports
from settings import Settings


def build_app(
    factory: sessionmaker[Session],
    transports: Transports,
    settings: Settings,
    *,
    scheduler: bool = True,
) -> FastAPI:
    """The one process: web app, and (in its lifespan) the sender, the inbox, the bot, the scheduler.

    Start-up order is event delivery, sender, inbox, bot, scheduler; shutdown is the reverse, so
    the scheduler stops queuing first, the inbox finishes the turn it is taking,
    and the sender sends what is in flight last.
    """
    from scheduler.loop import SchedulerThread
    from web.app import create_app
    from web.lifespans import events_hook
    from web.lifespans import inbox_hook as inbox_running
    from web.lifespans import lifespan_hook as telegram_running

    @asynccontextmanager
    async def sending(app: FastAPI) -> AsyncIterator[None]:
        from messaging.outbox import Sender

        async with transports.served_here():
            sender = Sender(factory, transports, settings)
            runner = asyncio.create_task(sender.run(), name="outbox-sender")
            app.state.sender = sender
            try:
                yield
            finally:
                await sender.shutdown(runner)
                sender.close()

    @asynccontextmanager
    async def scheduler_running(app: FastAPI) -> AsyncIterator[None]:
        thread = SchedulerThread(factory, settings)
        thread.start()
        try:
            yield
        finally:
            await asyncio.to_thread(thread.stop)

    hooks: list[Any] = [
        # First in, last out: events written while the others shut down still go.
        events_hook(factory, settings),
        sending,
        inbox_running(factory, settings),
        telegram_running(transports, factory, settings),
    ]
    hooks += [scheduler_running] if scheduler else []
    app = create_app(factory, settings, extra_routers=_extra_routers(), lifespan_hooks=hooks)
    app.state.transports = transports
    return app


def _extra_routers() -> list[Any]:
    from web.admin import router as admin_router
    from web.webhooks import webhooks_router

    return [webhooks_router(), admin_router]


def _serve(app: FastAPI, host: str, port: int) -> None:
    import signal

    import uvicorn

    # On SIGTERM uvicorn stops accepting requests and runs the lifespan's shutdown: the
    # scheduler stops, the sender finishes or gives back what is in flight (within 30 s).
    # uvicorn then raises the signal again for the previous handler: a stop that went as
    # planned is a clean exit (0) for systemd, not a death by signal.
    signal.signal(signal.SIGTERM, lambda *_: None)
    # A full collection walks every object the collector tracks, and by now there are
    # some 170,000 that live as long as the process (modules, mappers, the SDKs): each
    # walk paused everything for 100-300 ms, every webhook in flight with it. Frozen,
    # they are never walked again, and a full collection takes about 10 ms.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        # X-Forwarded-For is trusted only from AFTERCARE_TRUSTED_PROXIES (web/app.py);
        # uvicorn's default would trust it from any local process.
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
def run_command(host: str, port: int) -> None:
    """Run the production process: web server, webhooks and scheduler in one process."""
    settings = load_settings()
    configure_logging(settings)
    # The database first: a bad AFTERCARE_DATABASE_URL is the one line `run` prints.
    factory = database(settings)
    warn_about(settings)
    _serve(build_app(factory, transports_for(settings), settings), host, port)


# Shorter than this, a session secret can be guessed by brute force offline.
SHORTEST_SESSION_SECRET = 32


def warn_about(settings: Settings) -> None:
    """Say at start what the production process should not run with."""
    log = logging.getLogger("aftercare")
    # Unset is fine: a key generated once and stored in the database signs the sessions
    # (web/admin/keys.py). Set, it must be long enough not to be guessed offline.
    secret = settings.session_secret.get_secret_value()
    if secret and len(secret) < SHORTEST_SESSION_SECRET:
        log.warning(
            "AFTERCARE_SESSION_SECRET is %d characters; use at least %d random ones "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')",
            len(secret),
            SHORTEST_SESSION_SECRET,
        )
    from messaging.channels import registry

    for channel, sender in registry.senders(settings).items():
        if sender == registry.CONSOLE:
            log.warning(
                "NO %s CREDENTIALS: %s messages go to the console channel and reach nobody; set %s",
                channel.upper(),
                channel,
                registry.variables(channel),
            )
    if not settings.public_url.startswith("https://"):
        log.warning(
            "AFTERCARE_PUBLIC_URL is not https: providers' webhooks and admin logins travel "
            "in the clear unless a proxy in front terminates TLS (see docs/DEPLOY.md)"
        )


@click.command("demo")
@click.option("--port", default=8000, show_default=True, help="Port for the web UI.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--no-serve", is_flag=True, help="Seed and run one pass, then exit (no web server).")
def demo_command(port: int, host: str, no_serve: bool) -> None:
    """Try Aftercare locally: SQLite, sample data, console channel, web UI. No credentials."""
    import os

    from cli.demo_data import add_fresh_complaint, add_history, add_users, seed
    from clock import utcnow
    from messaging.outbox import drain
    from scheduler.tick import tick
    from settings import reset_settings

    path = Path.cwd() / "aftercare-demo.sqlite3"
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    api_token = secrets.token_urlsafe(16)
    # The demo never touches real providers, whatever the shell or .env holds, and its
    # made-up customers never reach a real CRM.
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TELEGRAM_BOT_TOKEN",
        "AFTERCARE_EVENTS_URL",
    ):
        os.environ[name] = ""
    os.environ.update(
        AFTERCARE_DATABASE_URL=f"sqlite:///{path}",
        AFTERCARE_API_TOKEN=api_token,
        AFTERCARE_ADMIN_PASSWORD="",  # the demo's users have passwords of their own
        AFTERCARE_PUBLIC_URL=f"http://{host}:{port}",
        AFTERCARE_SIMULATOR="true",
        AFTERCARE_BUSINESS_NAME=os.environ.get("AFTERCARE_BUSINESS_NAME") or "Kowalski Motors",
        AFTERCARE_REVIEW_URL=os.environ.get("AFTERCARE_REVIEW_URL")
        or "https://g.page/r/kowalski-motors/review",
    )
    reset_settings()
    settings = load_settings()
    configure_logging(settings)
    factory = database(settings)
    now = utcnow()
    with factory.begin() as session:
        counts = seed(session, now)
        session.flush()
        logins = add_users(session, now)
    click.echo(
        f"Seeded {counts['customers']} customers in 5 languages, {counts['purchases']} purchases, {counts['reps']} reps."
    )
    transports = transports_for(settings)
    click.echo("First scheduler pass; the console channel prints every message:\n")
    report = tick(factory, now, transports, settings)
    click.echo("\n" + report.summary())
    with factory.begin() as session:
        # Five months of answered surveys, so the dashboard has a story to tell.
        add_history(session, now)
        complainer = add_fresh_complaint(session, now, settings)
        # Read while the session is open: the customer and their rep (Anna) by name.
        told = (complainer.name, complainer.rep.name) if complainer and complainer.rep else None
    if told is not None:
        click.echo(f"\n{told[0]} answers with a 4: the bot asks why and alerts {told[1]}:\n")
        drain(factory, now, transports, settings=settings)
    accounts = "\n".join(
        f"    {role:<8} user: {user:<6}  password: {password}" for user, role, password in logins
    )
    if no_serve:
        click.echo(f"Logins for the admin UI:\n{accounts}")
        return
    click.echo(
        f"""
Aftercare demo is running on http://{host}:{port}/
  Admin UI:            http://{host}:{port}/admin/   log in as
{accounts}
  Customer simulator:  http://{host}:{port}/admin/simulator  (reply as any customer)
  JSON API:            curl -H 'Authorization: Bearer {api_token}' http://{host}:{port}/api/customers/c-en-1
  API docs:            http://{host}:{port}/docs
Press Ctrl+C to stop. Data: {path}
"""
    )
    _serve(build_app(factory, transports, settings), host, port)
