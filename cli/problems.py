"""Configuration problems told as one line each: the variable, what is wrong, the fix."""

from __future__ import annotations

import difflib
import functools
from zoneinfo import available_timezones

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

DATABASE_URL_FORMS = "sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:5432/DB"


@functools.cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def _fix_for(variable: str, value: object) -> str:
    if variable == "AFTERCARE_DEFAULT_TZ":
        close = difflib.get_close_matches(str(value), _zones(), n=1, cutoff=0.6)
        hint = f", for example {close[0]}" if close else " such as Europe/Warsaw"
        return f"set it to an IANA time zone name{hint}"
    return f"fix {variable} in the environment or the .env file (see the README)"


def settings_problems(error: ValidationError) -> str:
    """Every bad variable in `error`, on one line, each with its fix."""
    problems = []
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        if not item["loc"]:
            # A rule across variables: its message names them. Never echo the input here,
            # it is every variable at once (AFTERCARE_DATABASE_URL's password included).
            problems.append(message)
            continue
        variable = ".".join(map(str, item["loc"]))
        if variable not in message:
            message = f"{variable}={item.get('input')!r}: {message}"
        problems.append(f"{message}; {_fix_for(variable, item.get('input'))}")
    return "; ".join(problems)


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable)"


# What Aftercare ships drivers for: the backend, and the drivers it accepts ("" is the
# backend's default, which SQLAlchemy 2.1 makes psycopg 3 for postgresql://).
SUPPORTED_DATABASES = {"postgresql": ("", "psycopg"), "sqlite": ("", "pysqlite")}
_SHIPPED = {
    "postgresql": ("postgresql+psycopg://", "psycopg 3"),
    "sqlite": ("sqlite://", "sqlite3"),
}


def unusable_database_url(url: str) -> str | None:
    """Why AFTERCARE_DATABASE_URL cannot work, on one line with the fix; None when it may.

    Only its shape: whether the server answers is found out by connecting. The password
    is never shown, not even of a URL too garbled to read.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return (
            "AFTERCARE_DATABASE_URL is not a URL SQLAlchemy can read; "
            f"set it to {DATABASE_URL_FORMS}"
        )
    shown = f"AFTERCARE_DATABASE_URL={parsed.render_as_string(hide_password=True)}"
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        return (
            f"{shown}: SQLAlchemy does not know the name postgres://; "
            "write postgresql+psycopg:// instead (the rest stays as it is)"
        )
    if backend not in SUPPORTED_DATABASES:
        return (
            f"{shown}: {backend} is not supported, Aftercare runs on PostgreSQL or SQLite; "
            f"set it to {DATABASE_URL_FORMS}"
        )
    if driver not in SUPPORTED_DATABASES[backend]:
        scheme, ships = _SHIPPED[backend]
        return (
            f"{shown}: Aftercare ships the {ships} driver, not {driver}; "
            f"write {scheme} instead of {parsed.drivername}:// (the rest stays as it is)"
        )
    if backend == "sqlite" and (parsed.database or ":memory:") == ":memory:":
        # Kept for the command's life only: a tick's work, an import, all gone at its exit.
        return (
            f"AFTERCARE_DATABASE_URL={url} has no file path: an in-memory database is lost "
            "when the command exits; set it to sqlite:///PATH "
            "(e.g. sqlite:////var/lib/aftercare/aftercare.sqlite3)"
        )
    return None


def database_problem(url: str, error: SQLAlchemyError) -> str:
    """AFTERCARE_DATABASE_URL is unreadable or unreachable: why, on one line, and the fix."""
    if isinstance(error, ArgumentError):
        return (
            f"AFTERCARE_DATABASE_URL={_shown(url)} is not a database URL Aftercare can use; "
            f"set it to {DATABASE_URL_FORMS}"
        )
    cause = str(getattr(error, "orig", None) or error).strip().splitlines()
    reason = cause[0] if cause else error.__class__.__name__
    return (
        f"AFTERCARE_DATABASE_URL={_shown(url)}: cannot connect ({reason}); "
        "check that the database server is running, the folder exists and the URL is right"
    )
