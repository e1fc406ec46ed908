"""CSV files that spreadsheets open safely: no formulas, UTF-8 that Excel reads, written as it goes.

A customer's comment is text anyone can send us. A cell that starts with `=`,
`+`, `-` or `@` (or a tab or carriage return, which Excel skips before looking)
is run as a formula when the file is opened: `=HYPERLINK("http://evil", "Fix")`
turns a complaint into a phishing link in a manager's spreadsheet. Following
OWASP's advice on CSV injection, such a cell gets a leading single quote, which
spreadsheets show as text. Numbers are written as numbers (a score is never text).

Excel guesses the encoding of a CSV file from a byte order mark: without one,
Polish, Ukrainian and Thai text opens as mojibake.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None


def safe_cell(value: Cell) -> str | int | float:
    """The value as a spreadsheet should see it: None empty, text that could be a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str):
        return value
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Cell]], *, rows_per_chunk: int = 200
) -> Iterator[str]:
    """The file as text chunks: the BOM and the header first, then a chunk per `rows_per_chunk` rows."""
    buffer = io.StringIO()
    # CRLF, as RFC 4180 and Excel expect.
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([safe_cell(name) for name in header])
    for written, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(value) for value in row])
        if written % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
