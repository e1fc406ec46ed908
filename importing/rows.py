"""Checking rows, shared by the three kinds: parse every cell, note every problem.

An empty cell means "not given": a new row gets the default, an existing row
keeps what it has (the bot learns some fields itself, such as a customer's
Telegram chat id, and a CRM export that does not know them must not erase them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import InstrumentedAttribute

from importing import fields
from importing.csv_reader import CsvRow
from importing.report import RowError

Parser = Callable[[str], Any]
Progress = Callable[[int, int], None]
PROGRESS_EVERY = 500


@dataclass(frozen=True)
class Wording:
    """How messages name where rows come from: a file's lines, or the rows of an API request."""

    source: str  # "file": "not in this file nor in the database"
    row: Callable[[int], str]  # a row's number as the reader counts it: "line 4"
    create_first: Callable[[str], str]  # what to do about a missing rep or customer


FILE_WORDING = Wording("file", lambda line: f"line {line}", lambda kind: f"import {kind} first")


@dataclass
class Findings:
    """Every error and warning found so far, by file line (or request row)."""

    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    wording: Wording = FILE_WORDING

    def error(self, line: int, column: str, message: str) -> None:
        self.errors.append(RowError(line, column, message))

    def unknown(self, line: int, column: str, kind: str, external_id: str) -> None:
        """A reference to a rep or customer (`kind`: "reps", "customers") that is not stored."""
        message = f"unknown {kind[:-1]} {external_id!r} ({self.wording.create_first(kind)})"
        self.errors.append(RowError(line, column, message, unknown_reference=True))

    def warn(self, line: int, column: str, message: str) -> None:
        self.warnings.append(RowError(line, column, message))


@dataclass
class Context:
    """What checking needs besides the rows: the instant, the default zone, where to report."""

    now: datetime
    default_zone: ZoneInfo
    findings: Findings = field(default_factory=Findings)
    progress: Progress | None = None


@dataclass
class ParsedRow:
    """A row's good, non-empty cells as values, and the columns that were bad."""

    line: int
    values: dict[str, Any]
    bad: set[str]

    @property
    def external_id(self) -> str:
        return str(self.values["external_id"])

    def usable(self, *columns: str) -> bool:
        """None of `columns` had a bad value (so a check on them will not repeat an error)."""
        return not self.bad.intersection(columns)


def text_for(column: InstrumentedAttribute[Any]) -> Parser:
    """A parser for free text that must fit `column`."""
    limit = getattr(column.property.columns[0].type, "length", None)
    return lambda text: fields.bounded(text, limit)


def parse_rows(
    rows: list[CsvRow], parsers: dict[str, Parser], required: Iterable[str], context: Context
) -> list[ParsedRow]:
    """Every row parsed; a repeated external_id is an error on the later line.

    Rows without a usable external_id cannot be matched and are left out.
    """
    findings = context.findings
    required = frozenset(required)
    first_line: dict[str, int] = {}
    parsed = []
    for count, row in enumerate(rows, start=1):
        if context.progress and count % PROGRESS_EVERY == 0:
            context.progress(count, len(rows))
        values: dict[str, Any] = {}
        bad: set[str] = set()
        for column, text in row.cells.items():
            if not text:
                if column in required:
                    findings.error(row.line, column, "is required")
                    bad.add(column)
                continue
            if "\x00" in text:
                # No database column can hold it (PostgreSQL refuses the whole statement).
                findings.error(row.line, column, "contains a NUL character")
                bad.add(column)
                continue
            try:
                values[column] = parsers[column](text)
            except fields.FieldError as exc:
                findings.error(row.line, column, str(exc))
                bad.add(column)
        external_id = values.get("external_id")
        if external_id is None:
            continue
        if external_id in first_line:
            where = findings.wording.row(first_line[external_id])
            message = f"{external_id!r} already appears on {where}"
            findings.error(row.line, "external_id", message)
            continue
        first_line[external_id] = row.line
        parsed.append(ParsedRow(row.line, values, bad))
    if context.progress:
        context.progress(len(rows), len(rows))
    return parsed


def check_unique_in_file(
    entries: Iterable[tuple[int, Any]], column: str, findings: Findings
) -> dict[Any, int]:
    """Each value's first line; a value seen again is an error on the later line."""
    first_line: dict[Any, int] = {}
    for line, value in entries:
        if value in first_line:
            findings.error(
                line, column, f"{value} is also on {findings.wording.row(first_line[value])}"
            )
        else:
            first_line[value] = line
    return first_line
