"""All-or-nothing CSV import of reps, customers and purchases (upsert by external_id).

Domain logic only: `import_csv(session, kind, file)` checks every row, raises
ImportErrors naming each bad cell by line and column, and otherwise writes all
rows in the caller's transaction. `import_rows` does the same for rows from
anywhere (the write API's JSON records, through importing.records). The command
line lives in cli/importing.py.
"""

from importing.pipeline import KINDS, import_csv, import_rows
from importing.purchases import SERVICE_CATEGORIES, SERVICE_INTERVAL
from importing.report import ImportErrors, ImportReport, RowError

__all__ = [
    "KINDS",
    "SERVICE_CATEGORIES",
    "SERVICE_INTERVAL",
    "ImportErrors",
    "ImportReport",
    "RowError",
    "import_csv",
    "import_rows",
]
