"""What every command shares: settings, the database, the transports, --now parsing."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import click
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from clock import parse_instant
from events import send_events_to
from messaging.channels import Transports, console_only
from models.db import open_database
from settings import Settings, get_settings


class Instant(click.ParamType):
    """An ISO 8601 instant; without a zone it is UTC (RFC 3339's lower-case t and z too)."""

    name = "ISO-8601"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_instant(str(value).upper())
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 date or time (e.g. 2026-03-01T09:30:00+01:00)",
                param,
                ctx,
            )


def instant_option(name: str, help_text: str) -> Any:
    return click.option(name, type=Instant(), default=None, help=help_text)


def load_settings() -> Settings:
    """The settings, or a clear error naming the bad variable."""
    try:
        return get_settings()
    except ValidationError as error:
        problems = "; ".join(_problem(e["loc"], e["msg"]) for e in error.errors())
        raise click.ClickException(f"bad configuration: {problems}") from error


def _problem(loc: tuple[int | str, ...], message: str) -> str:
    # A rule across variables (AFTERCARE_EVENTS_URL needs its secret) has no one field.
    message = message.removeprefix("Value error, ")
    return f"{'.'.join(map(str, loc))}: {message}" if loc else message


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Bot API URLs carry the token: never log them.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def database(settings: Settings) -> sessionmaker[Session]:
    """Open the configured database, bringing its schema up to date first.

    Its sessions write events for AFTERCARE_EVENTS_URL's receivers (none: no events).
    """
    _, factory = open_database(settings.database_url)
    return send_events_to(factory, settings.events_endpoints)


def transports_for(settings: Settings) -> Transports:
    """The provider channels that have credentials; the console stands in for the rest."""
    transports = console_only()
    from messaging.channels import registry

    registry.attach_configured(transports, settings)
    return transports
