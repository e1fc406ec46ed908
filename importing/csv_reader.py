"""Reading an import file: UTF-8 (a BOM allowed), a header row, exact line numbers.

The delimiter is sniffed: Excel writes `;` wherever the decimal separator is a
comma (Polish, Ukrainian and most European locales), and tab or `|` come from
other exports. Only those four are candidates, so a name or a quoted "12,5"
never makes a letter the delimiter.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from dataclasses import dataclass
from typing import IO

from importing.report import ImportErrors, RowError

Source = str | os.PathLike[str] | IO[bytes] | IO[str]

DELIMITERS = ",;\t|"
# Enough lines for the sniffer to see a pattern; it reads no more than this.
SNIFF_SAMPLE = 64 * 1024


@dataclass(frozen=True)
class Columns:
    """The columns one kind of file may have; order in the file is free."""

    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True)
class CsvRow:
    """One data record: its first line in the file and its stripped cells by column."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The cell's text, or "" when the file has no such column."""
        return self.cells.get(column, "")


def read_text(source: Source) -> str:
    """The whole file as text; not UTF-8 is an error naming the line."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            data: bytes | str = file.read()
    else:
        data = source.read()
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f'not UTF-8 text{_saved_as(data)} (save the file as "CSV UTF-8")'
        raise ImportErrors([RowError(line, "", message)], rows=0) from exc


_LATIN = re.compile(r"[A-Za-z]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _saved_as(data: bytes) -> str:
    """A hint at the code page Excel's plain "CSV" used, for the error message only.

    The file is not read in it: two code pages fit the same bytes, and a wrong
    guess would import every name garbled. Cyrillic text read as Windows-1251 has
    words of Cyrillic letters only; Polish text read so has Latin words with a
    stray Cyrillic letter inside (ś is 0x9C, "њ" there).
    """
    words = re.findall(r"\w+", data.decode("cp1251", errors="replace"))
    cyrillic = [word for word in words if _CYRILLIC.search(word)]
    if cyrillic and not any(_LATIN.search(word) for word in cyrillic):
        return ", probably Windows-1251 (Cyrillic)"
    if cyrillic:
        return ", probably Windows-1250 (Central European)"
    return ""


def read_rows(source: Source, columns: Columns) -> tuple[list[CsvRow], list[RowError]]:
    """The file's data rows and the errors in its shape (bad header: ImportErrors at once).

    Blank lines (and rows of empty cells, as spreadsheets export them) are skipped.
    """
    text = read_text(source)
    # strict: an unclosed quote must be an error, not a field that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        expected = ",".join(columns.all)
        raise ImportErrors(
            [RowError(1, "", f"the file is empty; expected a header row: {expected}")], 0
        ) from None
    except csv.Error as exc:
        raise ImportErrors([RowError(1, "", f"unreadable CSV header: {exc}")], 0) from None
    names = [name.strip().lower() for name in header]
    header_errors = check_header(names, columns)
    if header_errors:
        raise ImportErrors(header_errors, rows=0)

    rows: list[CsvRow] = []
    errors: list[RowError] = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line, "", f"unreadable CSV from this line on: {exc}"))
            break
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(names):
            message = f"expected {len(names)} fields, as in the header; found {len(cells)}"
            errors.append(RowError(line, "", message))
            continue
        rows.append(
            CsvRow(line, {name: cell.strip() for name, cell in zip(names, cells, strict=True)})
        )
    return rows, errors


def delimiter_of(text: str) -> str:
    """The file's delimiter, one of `,;\\t|`: what csv.Sniffer finds, if the header has it.

    The sniffer decides from the lines' rhythm, which a short file may not have;
    then (or when its pick is absent from the header, whose column names hold no
    delimiter) the one the header line holds most of wins, and ',' without any.
    Only the delimiter is taken: quoting stays Excel's (double quotes, doubled).
    """
    sample = text[:SNIFF_SAMPLE]
    header = sample.split("\n", 1)[0]
    # Whole lines only: a row cut in the middle would break the rhythm the sniffer looks for.
    sample = sample[: sample.rfind("\n") + 1] or sample
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and sniffed in _unquoted(header):
        return sniffed
    counts = {candidate: _unquoted(header).count(candidate) for candidate in DELIMITERS}
    best = max(DELIMITERS, key=lambda candidate: counts[candidate])  # ties: the earlier one
    return best if counts[best] else ","


def _unquoted(line: str) -> str:
    """The line without its double-quoted parts (a quoted "a;b" is one cell, not a delimiter)."""
    return "".join(part for index, part in enumerate(line.split('"')) if index % 2 == 0)


def check_header(names: list[str], columns: Columns) -> list[RowError]:
    """Every unknown, unnamed, repeated or missing column, each named."""
    expected = ", ".join(columns.all)
    if not set(names) & set(columns.all):
        return [
            RowError(1, "", f"no header row: the first line must name the columns ({expected})")
        ]
    errors = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            errors.append(RowError(1, f"column {position}", "has no name"))
        elif name in seen:
            errors.append(RowError(1, name, "appears twice in the header"))
        elif name not in columns.all:
            errors.append(RowError(1, name, f"unknown column (expected: {expected})"))
        seen.add(name)
    errors.extend(
        RowError(1, name, "missing required column")
        for name in columns.required
        if name not in seen
    )
    return errors
