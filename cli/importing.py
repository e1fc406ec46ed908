"""`bot.py import reps|customers|purchases FILE.csv`: the all-or-nothing import, on the command line.

Only translation lives here: the checks and the writing are in `importing/`.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError
from tqdm import tqdm

from cli.common import database, load_settings
from clock import utcnow
from importing import KINDS, ImportErrors, import_csv
from importing.report import RowError
from messaging.channels.registry import CHANNELS, DEFAULT_CHANNEL
from models import LANGUAGES
from models.db import transaction

# Below this a bar only flickers.
PROGRESS_MIN_ROWS = 1000

FILE = click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
)
DRY_RUN = click.option(
    "--dry-run", is_flag=True, help="Check the file and say what would change; write nothing."
)


@click.group("import", short_help="Import reps, customers or purchases from CSV (all or nothing).")
def import_group() -> None:
    """Import reps, customers or purchases from a CSV file (UTF-8, header row).

    Rows are matched to what is stored by external_id: new ones are created,
    known ones updated. Every row is checked first; if any is bad, each
    problem is printed as FILE:LINE: column: message, nothing is imported and
    the exit status is 1. An empty cell leaves the stored value as it is.
    Import in this order: reps, then customers, then purchases.
    """


def _wrapped(names: tuple[str, ...], width: int = 72) -> str:
    """`names` as a header row, cut after a comma where a line would pass `width`."""
    lines: list[str] = []
    for name in names:
        if lines and len(lines[-1]) + len(name) + 1 <= width:
            lines[-1] += f",{name}"
        else:
            lines[-1:] = [f"{lines[-1]},"] if lines else []
            lines.append(name)
    return "\n".join(lines)


def _help(kind: str, notes: str) -> str:
    """A kind's --help: the columns exactly as the importer takes them (its COLUMNS), then `notes`."""
    columns = KINDS[kind].COLUMNS
    required = (
        " and ".join(columns.required)
        if len(columns.required) < 3
        else (f"{', '.join(columns.required[:-1])} and {columns.required[-1]}")
    )
    return (
        f"Import {kind} from FILE, a CSV file whose header row names some of these "
        f"columns, in any order:\n\n\b\n{_wrapped(columns.all)}\n\n"
        f"{required} are required, the others optional. {notes}"
    )


def _needs(fields: tuple[str, ...]) -> str:
    return " or ".join(("an " if field[0] in "aeiou" else "a ") + field for field in fields)


def _channels() -> str:
    """Each channel a customer may have and the column it needs, from the channel registry."""
    named = [
        f"{name} ({'the default, ' if name == DEFAULT_CHANNEL else ''}"
        f"needs {_needs(entry.contact_fields)})"
        for name, entry in CHANNELS.items()
    ]
    return f"{', '.join(named[:-1])} or {named[-1]}" if len(named) > 1 else named[0]


LANGUAGE_LIST = f"{', '.join(LANGUAGES[:-1])} or {LANGUAGES[-1]}"

REPS_NOTES = f"""phone is international (+48 601 234 567, stored as
E.164); role is rep (the default), manager or admin; the manager may come later
in the same file or already be stored. language ({LANGUAGE_LIST}) is what their
alerts and replies are written in (none: AFTERCARE_DEFAULT_LANGUAGE). email is
where alerts go by email. working_hours are the rep's own, such as "Mon-Fri
09:00-18:00" on the business's clock; "default" gives them the business's hours
again."""

CUSTOMERS_NOTES = f"""language is {LANGUAGE_LIST} (en by default);
timezone an IANA name (Europe/Warsaw; empty: AFTERCARE_DEFAULT_TZ applies);
channel is {_channels()}; with telegram a phone is enough, the customer links
their chat through the deep link. email is a mailbox address. The rep must
already be imported; tags are separated by ";". A phone or chat id may belong to
one customer only."""

PURCHASES_NOTES = """The customer must already be imported. Times are ISO
8601 (2026-03-01T14:30+01:00); a time without a zone is read in the customer's
time zone (else AFTERCARE_DEFAULT_TZ). promised_delivery_date is a date
(2026-03-01). A delivery in the future is imported with a warning."""


@import_group.command(
    "reps", short_help="Import reps (and managers) from a CSV file.", help=_help("reps", REPS_NOTES)
)
@FILE
@DRY_RUN
def import_reps(file: Path, dry_run: bool) -> None:
    _run("reps", file, dry_run)


@import_group.command(
    "customers",
    short_help="Import customers from a CSV file.",
    help=_help("customers", CUSTOMERS_NOTES),
)
@FILE
@DRY_RUN
def import_customers(file: Path, dry_run: bool) -> None:
    _run("customers", file, dry_run)


@import_group.command(
    "purchases",
    short_help="Import purchases from a CSV file.",
    help=_help("purchases", PURCHASES_NOTES),
)
@FILE
@DRY_RUN
def import_purchases(file: Path, dry_run: bool) -> None:
    _run("purchases", file, dry_run)


def _run(kind: str, file: Path, dry_run: bool) -> None:
    config = load_settings()
    factory = database(config)
    bar = ProgressBar(f"checking {kind}")
    try:
        with transaction(factory) as session:
            report = import_csv(
                session,
                kind,
                file,
                now=utcnow(),
                default_tz=config.default_tz,
                dry_run=dry_run,
                progress=bar,
            )
    except ImportErrors as exc:
        bar.close()
        for line in exc.lines(str(file)):
            click.echo(line, err=True)
        click.echo(exc.summary(), err=True)
        sys.exit(1)
    except DBAPIError as exc:
        # A change by someone else between the checks and the writes (a customer
        # linking that chat id just now), or a lost connection: all rolled back.
        bar.close()
        click.echo(f"{file}: the database refused the import: {exc.orig}", err=True)
        click.echo("nothing was imported; run the import again", err=True)
        sys.exit(1)
    bar.close()
    for warning in report.warnings:
        click.echo(_warning(warning).format(str(file)), err=True)
    click.echo(report.summary())


def _warning(warning: RowError) -> RowError:
    return dataclasses.replace(warning, message=f"warning: {warning.message}")


class ProgressBar:
    """A tqdm bar on stderr, shown only for big files on a terminal."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.bar: tqdm[None] | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total < PROGRESS_MIN_ROWS:
                return
            # disable=None: no bar when stderr is not a terminal (CI, pipes, logs).
            self.bar = tqdm(
                total=total, desc=self.description, unit="rows", file=sys.stderr, disable=None
            )
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
