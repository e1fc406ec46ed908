"""Create or update reps, customers and purchases from JSON records, with the CSV import's rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from importing.pipeline import import_rows
from importing.records import rows_from_records
from importing.report import ImportReport
from importing.rows import Findings, Wording
from models import Base

ModelT = TypeVar("ModelT", bound=Base)

# At most this many records in one batch request: all of them are checked and held in one transaction.
BATCH_LIMIT = 1000

# The API's rows are a list: "rows[3]", and what is missing is created through the API.
API_WORDING = Wording(
    "request", lambda index: f"rows[{index}]", lambda kind: f"create it first: POST /api/{kind}"
)


class NotFound(LookupError):
    """The path names a customer or purchase that is not stored; the message says which."""


def stored(session: Session, model: type[ModelT], external_id: str) -> ModelT | None:
    """The customer, rep or purchase with this external_id, if any."""
    if "\x00" in external_id:
        # No stored id holds one (the import refuses it), and PostgreSQL refuses the query.
        return None
    column = model.external_id  # type: ignore[attr-defined]
    return session.scalars(select(model).where(column == external_id)).first()


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
