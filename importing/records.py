"""Rows that arrive as JSON objects (the write API) instead of a file: the same cells, so the same checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from importing.csv_reader import CsvRow


def rows_from_records(records: Sequence[Mapping[str, Any]]) -> list[CsvRow]:
    """Each record as the row a CSV file would give; its `line` is its position in `records`.

    A field that is absent, null or empty is an empty cell: not given, so a
    stored value is kept, exactly as an empty cell in a file.
    """
    return [
        CsvRow(index, {name: cell_text(value) for name, value in record.items()})
        for index, record in enumerate(records)
    ]


def cell_text(value: Any) -> str:
    """What the cell would read in a file: tags as `a;b`, numbers as digits, None as empty."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(item).strip() for item in value)
    return str(value).strip()
