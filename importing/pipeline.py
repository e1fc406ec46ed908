"""One import: read the file, check every row, then write it all or nothing."""

from __future__ import annotations

from datetime import datetime
from types import ModuleType

from sqlalchemy.orm import Session

from clock import utcnow
from importing import customers, fields, purchases, reps
from importing.csv_reader import CsvRow, Source, read_rows
from importing.report import ImportErrors, ImportReport
from importing.rows import Context, Findings, Progress

# Each kind's module has COLUMNS, plan(session, rows, context) and apply(session, plan).
KINDS: dict[str, ModuleType] = {"reps": reps, "customers": customers, "purchases": purchases}


def import_csv(
    session: Session,
    kind: str,
    source: Source,
    *,
    default_tz: str,
    now: datetime | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of `source`, then upsert them all by external_id in `session`'s transaction.

    Raises ImportErrors, listing every problem, before anything is written.
    The caller commits. `default_tz` (the caller's AFTERCARE_DEFAULT_TZ) reads
    purchase times that carry no zone for customers without one; `progress` is
    called with (rows checked, rows in the file).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    rows, shape_errors = read_rows(source, KINDS[kind].COLUMNS)
    return import_rows(
        session,
        kind,
        rows,
        default_tz=default_tz,
        now=now,
        dry_run=dry_run,
        progress=progress,
        findings=Findings(errors=shape_errors),
    )


def import_rows(
    session: Session,
    kind: str,
    rows: list[CsvRow],
    *,
    default_tz: str,
    now: datetime | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    findings: Findings | None = None,
) -> ImportReport:
    """Check `rows` (from a file, or JSON records from the API), then upsert them all or none.

    The checks and writes behind import_csv, for rows that come from anywhere:
    raises ImportErrors, listing every problem in `findings` too, before
    anything is written; the caller commits.
    """
    module = KINDS[kind]
    context = Context(
        now=now or utcnow(),
        default_zone=fields.zone(default_tz),
        findings=findings or Findings(),
        progress=progress,
    )
    session.flush()  # so the checks see the caller's own pending rows
    plan = module.plan(session, rows, context)
    if context.findings.errors:
        raise ImportErrors(context.findings.errors, rows=len(rows))
    created, updated, unchanged = plan.counts
    if not dry_run:
        module.apply(session, plan)
        session.flush()
        # Bulk statements bypass the identity map: reload anything the caller holds.
        session.expire_all()
    warnings = sorted(context.findings.warnings, key=lambda warning: warning.line)
    return ImportReport(kind, created, updated, unchanged, warnings, dry_run)
