"""What an import tells its caller: the errors that stopped it, or what it changed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RowError:
    """One problem with one cell (or a whole row when `column` is empty).

    `line` is the file's own line number, the header being line 1; a record
    spanning several lines (a quoted field with a newline) is named by the
    line it starts on.
    """

    line: int
    column: str
    message: str
    # A reference to a rep or customer that does not exist (the API answers 404 for it).
    unknown_reference: bool = False

    def format(self, filename: str) -> str:
        """`FILE:LINE: column: message`, the shape compilers and editors understand."""
        where = f"{filename}:{self.line}:"
        return (
            f"{where} {self.column}: {self.message}" if self.column else f"{where} {self.message}"
        )


class ImportErrors(Exception):
    """The file had bad rows; nothing was written."""

    def __init__(self, errors: list[RowError], rows: int) -> None:
        self.errors = sorted(errors, key=lambda error: error.line)
        self.rows = rows  # data rows read (the header not counted)
        super().__init__(self.summary())

    @property
    def bad_lines(self) -> int:
        return len({error.line for error in self.errors})

    def summary(self) -> str:
        errors = "error" if len(self.errors) == 1 else "errors"
        rows = "row" if self.bad_lines == 1 else "rows"
        return f"{len(self.errors)} {errors} in {self.bad_lines} {rows}; nothing was imported"

    def lines(self, filename: str) -> list[str]:
        return [error.format(filename) for error in self.errors]


@dataclass
class ImportReport:
    """What a successful import did (or, with `dry_run`, would do)."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        text = f"{self.kind}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        return f"{text} (dry run: nothing was written)" if self.dry_run else text
