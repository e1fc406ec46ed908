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
from importing import ImportErrors, import_csv
from importing.report import RowError
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


@import_group.command("reps", short_help="Import reps (and managers) from a CSV file.")
@FILE
@DRY_RUN
def import_reps(file: Path, dry_run: bool) -> None:
    """Import reps from FILE, a CSV file with these columns:

    \b
    external_id,name,phone,telegram_chat_id,role,manager_external_id,email,language

    external_id and name are required. phone is international (+48 601 234 567,
    stored as E.164); role is rep (the default), manager or admin; the
    manager may come later in the same file or already be stored. language
    (en, pl, uk, ru, th) is what their alerts and replies are written in
    (none: AFTERCARE_DEFAULT_LANGUAGE).
    """
    _run("reps", file, dry_run)


@import_group.command("customers", short_help="Import customers from a CSV file.")
@FILE
@DRY_RUN
def import_customers(file: Path, dry_run: bool) -> None:
    """Import customers from FILE, a CSV file with these columns:

    \b
    external_id,name,phone,telegram_chat_id,language,timezone,channel,
    rep_external_id,tags

    external_id and name are required. language is en (the default), pl, uk,
    ru or th; timezone an IANA name (Europe/Warsaw; empty: AFTERCARE_DEFAULT_TZ
    applies); channel sms (the default, needs a phone) or telegram (needs a
    telegram_chat_id or a phone, so the customer can link through the deep
    link); the rep must already be imported; tags are separated by ";". A
    phone or chat id may belong to one customer only.
    """
    _run("customers", file, dry_run)


@import_group.command("purchases", short_help="Import purchases from a CSV file.")
@FILE
@DRY_RUN
def import_purchases(file: Path, dry_run: bool) -> None:
    """Import purchases from FILE, a CSV file with these columns:

    \b
    external_id,customer_external_id,product,category,purchased_at,
    promised_delivery_date,delivered_at,rep_external_id

    external_id, customer_external_id and product are required; the customer
    must already be imported. Times are ISO 8601 (2026-03-01T14:30+01:00); a
    time without a zone is read in the customer's time zone (else
    AFTERCARE_DEFAULT_TZ). promised_delivery_date is a date (2026-03-01).
    A delivery in the future is imported with a warning.
    """
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
