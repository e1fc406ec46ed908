"""`tick`, `plan` and `migrate`: the scheduler from the command line."""

from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy.orm import Session, sessionmaker

from cli.common import configure_logging, database, instant_option, load_settings, transports_for
from clock import utcnow
from settings import Settings


@click.command("tick")
@instant_option(
    "--now", "Run the pass as if it were this instant (ISO 8601; default: the real clock)."
)
def tick_command(now: datetime | None) -> None:
    """Run one scheduler pass (plan, send, remind, expire), print a summary, exit.

    On SIGTERM or Ctrl+C it stops planning, finishes (or gives back) the sends in
    flight within 30 seconds, writes what happened, and exits 0.
    """
    import signal

    from scheduler.tick import Stop, tick

    settings = load_settings()
    configure_logging(settings)
    transports = transports_for(settings)
    stop = Stop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.request())
    factory = database(settings)
    posted = 0
    try:
        report = tick(factory, now or utcnow(), transports, settings, stop=stop)
        if settings.events_endpoints and not stop:
            # What the pass recorded goes out now, when no `run` process is there to send it.
            posted = transports.network.call(_deliver_events(factory, settings))
    finally:
        transports.close()
    click.echo(report.summary())
    if posted:
        click.echo(f"  events:     {posted} delivery attempts")
    if stop:
        click.echo("  stopped early on request: the rest waits for the next pass")


# How long `tick` spends delivering events before it exits; `run` (or the next tick) does the rest.
EVENTS_BUDGET = 20.0


async def _deliver_events(factory: sessionmaker[Session], settings: Settings) -> int:
    from events.worker import EventWorker

    worker = EventWorker(factory, settings.events_secret.get_secret_value())
    return await worker.deliver_backlog(EVENTS_BUDGET)


@click.command("plan")
@instant_option("--at", "Show what a tick at this instant would do (default: now).")
@click.option("--limit", default=50, show_default=True, help="Messages to print in full.")
def plan_command(at: datetime | None, limit: int) -> None:
    """Show what a tick would send and hold back, with reasons. Sends nothing."""
    from scheduler.tick import preview

    settings = load_settings()
    report = preview(database(settings), at or utcnow(), settings)
    click.echo(report.summary().replace("tick at", "plan for a tick at", 1))
    for outcome in report.outcomes[:limit]:
        what = {"send": "SEND", "wait": "WAIT", "suppress": "SKIP", "fail": "FAIL"}[outcome.action]
        click.echo(
            f"\n{what:4} #{outcome.checkin_id} {outcome.kind} -> {outcome.customer} via {outcome.channel or '-'}"
        )
        if outcome.reason:
            click.echo(f"     why: {outcome.reason}")
        if outcome.body:
            click.echo("     " + outcome.body.replace("\n", "\n     "))
    if len(report.outcomes) > limit:
        click.echo(f"\n... and {len(report.outcomes) - limit} more (use --limit)")


@click.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date (every command also does this itself)."""
    settings = load_settings()
    database(settings)
    click.echo("database schema is up to date")
