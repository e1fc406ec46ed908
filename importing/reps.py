"""reps.csv: the people unhappy customers are escalated to, and who manages whom.

Reps are few (a business has dozens, not thousands), so this kind loads the
whole table and writes through the ORM, which orders the inserts of reps whose
manager is new in the same file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cadence.working_hours import parse_hours
from importing import fields
from importing.csv_reader import Columns, CsvRow
from importing.report import RowError
from importing.rows import Context, ParsedRow, Parser, check_unique_in_file, parse_rows, text_for
from messaging.channels.registry import address_columns, revived
from models import LANGUAGES, ROLES, Rep

ADDRESSES = address_columns()  # an email address, for alerts by email
COLUMNS = Columns(
    required=("external_id", "name"),
    optional=(
        "phone",
        "telegram_chat_id",
        "role",
        "manager_external_id",
        "language",
        *ADDRESSES,
        "working_hours",
    ),
)
PARSERS: dict[str, Parser] = {
    "external_id": text_for(Rep.external_id),
    "name": text_for(Rep.name),
    "phone": fields.phone,
    "telegram_chat_id": fields.chat_id,
    "role": lambda text: fields.choice(text, ROLES),
    "manager_external_id": text_for(Rep.external_id),
    # What their alerts and replies are written in; absent: the business's language.
    "language": lambda text: fields.choice(text, LANGUAGES),
    **{column: fields.checked(check) for column, check in ADDRESSES.items()},
    "working_hours": fields.checked(lambda text: working_hours(text)),
}
PLAIN = ("name", "phone", "telegram_chat_id", "role", "language", *ADDRESSES, "working_hours")
# Alerts reach a rep by Telegram or SMS; one value must name one rep.
UNIQUE = ("phone", "telegram_chat_id")


def working_hours(text: str) -> str | None:
    """A rep's own hours, "Mon-Fri 09:00-18:00" (the business's clock); "default": the business's."""
    if text.strip().lower() == "default":
        return None
    return parse_hours(text).text()


@dataclass
class Plan:
    reps: dict[str, Rep]  # the whole table, by external id
    new: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)
    # external id -> manager's external id (or None), where that changes
    managers: dict[str, str | None] = field(default_factory=dict)
    unchanged: int = 0

    @property
    def counts(self) -> tuple[int, int, int]:
        updated = len((set(self.changed) | set(self.managers)) - set(self.new))
        return len(self.new), updated, self.unchanged


def plan(session: Session, rows: list[CsvRow], context: Context) -> Plan:
    """Check every rep row, their managers and the management chain; write nothing."""
    parsed = parse_rows(rows, PARSERS, COLUMNS.required, context)
    reps = {rep.external_id: rep for rep in session.scalars(select(Rep))}
    by_id = {rep.id: rep.external_id for rep in reps.values()}
    managers_now = {ext: by_id.get(rep.manager_id or 0) for ext, rep in reps.items()}
    result = Plan(reps)
    manager_of = _managers_after(parsed, reps, managers_now, context)
    for row in parsed:
        if "manager_external_id" in row.values and row.usable("manager_external_id"):
            _check_no_loop(row, manager_of, context)
    for column in UNIQUE:
        _check_unique(parsed, reps, column, context)

    for row in parsed:
        wanted = {name: row.values[name] for name in PLAIN if name in row.values}
        rep = reps.get(row.external_id)
        if manager_of[row.external_id] != managers_now.get(row.external_id):
            result.managers[row.external_id] = manager_of[row.external_id]
        if rep is None:
            result.new[row.external_id] = wanted
        else:
            changed = {name: value for name, value in wanted.items() if getattr(rep, name) != value}
            if changed:
                result.changed[row.external_id] = changed
            elif row.external_id not in result.managers:
                result.unchanged += 1
        final_phone = wanted.get("phone", rep.phone if rep else None)
        final_chat = wanted.get("telegram_chat_id", rep.telegram_chat_id if rep else None)
        if final_phone is None and final_chat is None and row.usable("phone", "telegram_chat_id"):
            message = "has neither phone nor telegram_chat_id: escalation alerts cannot reach them"
            context.findings.warn(row.line, "phone", message)
    return result


def _managers_after(
    parsed: list[ParsedRow],
    reps: dict[str, Rep],
    managers_now: dict[str, str | None],
    context: Context,
) -> dict[str, str | None]:
    """Everyone's manager once the file is applied; bad references are errors."""
    manager_of = dict(managers_now)
    in_file = {row.external_id for row in parsed}
    for row in parsed:
        manager_of.setdefault(row.external_id, None)
        manager = row.values.get("manager_external_id")
        if manager is None:
            continue
        if manager == row.external_id:
            context.findings.error(
                row.line, "manager_external_id", "a rep cannot be their own manager"
            )
            row.bad.add("manager_external_id")
        elif manager not in reps and manager not in in_file:
            source = context.findings.wording.source
            message = f"unknown rep {manager!r} (not in this {source} nor in the database)"
            context.findings.errors.append(
                RowError(row.line, "manager_external_id", message, unknown_reference=True)
            )
            row.bad.add("manager_external_id")
        else:
            manager_of[row.external_id] = manager
    return manager_of


def _check_no_loop(row: ParsedRow, manager_of: dict[str, str | None], context: Context) -> None:
    chain = [row.external_id]
    current = manager_of.get(row.external_id)
    while current is not None and current not in chain:
        chain.append(current)
        current = manager_of.get(current)
    if current == row.external_id:
        loop = " -> ".join([*chain, current])
        context.findings.error(row.line, "manager_external_id", f"management chain loops: {loop}")


def _check_unique(
    parsed: list[ParsedRow], reps: dict[str, Rep], column: str, context: Context
) -> None:
    given = [(row.line, row.values[column]) for row in parsed if column in row.values]
    first_line = check_unique_in_file(given, column, context.findings)
    replaced = {row.external_id for row in parsed if column in row.values}
    for rep in reps.values():
        value = getattr(rep, column)
        if value in first_line and rep.external_id not in replaced:
            message = f"{value} already belongs to rep {rep.external_id!r}"
            context.findings.error(first_line[value], column, message)


def apply(session: Session, result: Plan) -> None:
    """Write the plan (in the caller's transaction)."""
    reps = dict(result.reps)
    for external_id, values in result.new.items():
        reps[external_id] = Rep(external_id=external_id, **values)
        session.add(reps[external_id])
    for external_id, values in result.changed.items():
        # A new address is worth trying again, whatever the old one's server said.
        for name, value in (values | revived(values, Rep)).items():
            setattr(reps[external_id], name, value)
    for external_id, manager in result.managers.items():
        reps[external_id].manager = reps[manager] if manager else None
    session.flush()
