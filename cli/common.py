"""What every command shares: settings, the database, the transports, --now parsing."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import click
from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cli.problems import (
    DATABASE_URL_FORMS,
    database_problem,
    settings_problems,
    unusable_database_url,
)
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


class ConfigurationError(click.ClickException):
    """Configuration an operator must fix: one line naming the variable and the fix, exit 2."""

    exit_code = 2


def load_settings() -> Settings:
    """The settings, or a one-line error naming each bad variable and its fix."""
    try:
        return get_settings()
    except ValidationError as error:
        raise ConfigurationError(f"bad configuration: {settings_problems(error)}") from None


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
    A URL SQLAlchemy cannot read or Aftercare has no driver for (cli/problems.py says
    which), or a database it cannot reach, is the operator's to fix: one line naming
    AFTERCARE_DATABASE_URL and the fix, exit 2, never a traceback.
    """
    problem = unusable_database_url(settings.database_url)
    if problem is not None:
        raise ConfigurationError(problem)
    try:
        _, factory = open_database(settings.database_url)
    except (ArgumentError, OperationalError, InterfaceError) as error:
        raise ConfigurationError(database_problem(settings.database_url, error)) from None
    except ImportError as error:  # a driver the check let through, missing from this install
        raise ConfigurationError(
            f"AFTERCARE_DATABASE_URL needs the {error.name} module, which is not installed; "
            f"set it to {DATABASE_URL_FORMS}"
        ) from None
    return send_events_to(factory, settings.events_endpoints)


def transports_for(settings: Settings) -> Transports:
    """The provider channels that have credentials; the console stands in for the rest."""
    transports = console_only()
    from messaging.channels import registry

    registry.attach_configured(transports, settings)
    return transports
