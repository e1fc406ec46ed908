"""Reading what is there and writing what changed, in bulk: a query per chunk, never per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from messaging.channels import registry
from models import Base

# Well under the bind-parameter limits of SQLite (32766) and PostgreSQL (65535).
CHUNK = 1000


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def existing_rows(
    session: Session, model: type[Base], columns: Sequence[str], key: str, values: Iterable[Any]
) -> dict[Any, dict[str, Any]]:
    """The `columns` of each row of `model` whose `key` is one of `values`, by that key."""
    wanted = sorted(set(values))
    selected = [getattr(model, name) for name in columns]
    found: dict[Any, dict[str, Any]] = {}
    for chunk in chunks(wanted):
        for row in session.execute(select(*selected).where(getattr(model, key).in_(chunk))):
            found[getattr(row, key)] = dict(row._mapping)
    return found


def owners(
    session: Session, model: type[Base], column: str, values: Iterable[Any]
) -> dict[Any, list[str]]:
    """For each of `values`, the external ids of the rows of `model` that hold it in `column`."""
    wanted = sorted(set(values))
    attribute = getattr(model, column)
    found: dict[Any, list[str]] = defaultdict(list)
    for chunk in chunks(wanted):
        query = select(attribute, model.external_id).where(attribute.in_(chunk))  # type: ignore[attr-defined]
        for value, external_id in session.execute(query):
            found[value].append(external_id)
    return found


@dataclass
class Changes:
    """What an import will do to one table, worked out before anything is written."""

    model: type[Base]
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0

    def add(self, wanted: dict[str, Any], existing: dict[str, Any] | None) -> None:
        """Queue `wanted` as a new row, or as an update of the fields that differ from `existing`."""
        if existing is None:
            self.inserts.append(wanted)
            return
        changed = {name: value for name, value in wanted.items() if existing[name] != value}
        if changed:
            # A new address is worth trying again, whatever the old one's server said.
            changed |= registry.revived(changed, self.model)
            self.updates.append({"id": existing["id"], **changed})
        else:
            self.unchanged += 1


def write(session: Session, changes: Changes) -> None:
    """Run the queued updates, then the inserts, as a few executemany statements."""
    for batch in _by_keys(changes.updates):
        session.execute(update(changes.model), batch)
    for batch in _by_keys(changes.inserts):
        # render_nulls: the ORM would otherwise leave out None values, giving rows
        # different shapes and breaking the batch into many small statements.
        session.execute(insert(changes.model), batch, execution_options={"render_nulls": True})


def _by_keys(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    # One statement per shape of row: an executemany needs the same columns in every row.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(row))].append(row)
    yield from groups.values()
