"""Create or update reps, customers and purchases from JSON records, with the CSV import's rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from importing.pipeline import import_rows
from importing.records import rows_from_records
from importing.report import ImportReport
from importing.rows import Findings, Wording

# At most this many records in one batch request: all of them are checked and held in one transaction.
BATCH_LIMIT = 1000

# The API's rows are a list: "rows[3]", and what is missing is created through the API.
API_WORDING = Wording(
    "request", lambda index: f"rows[{index}]", lambda kind: f"create it first: POST /api/{kind}"
)


class NotFound(LookupError):
    """The path names a customer or purchase that is not stored; the message says which."""


def upsert(
    session: Session,
    kind: str,
    records: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    default_tz: str,
) -> ImportReport:
    """Upsert `records` (the CSV columns of `kind` as fields) by external_id: all, or none.

    Raises importing.ImportErrors naming every bad field, each error's `line`
    being the record's index in `records`; nothing is written then. The caller commits.
    """
    return import_rows(
        session,
        kind,
        rows_from_records(records),
        default_tz=default_tz,
        now=now,
        findings=Findings(wording=API_WORDING),
    )
