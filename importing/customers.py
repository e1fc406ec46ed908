"""customers.csv: who the bot talks to, in which language, zone and channel, and their rep."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from importing import fields
from importing.csv_reader import Columns, CsvRow
from importing.rows import Context, ParsedRow, Parser, check_unique_in_file, parse_rows, text_for
from importing.upsert import Changes, chunks, existing_rows, owners, write
from messaging.channels.registry import CHANNELS, DEFAULT_CHANNEL, address_columns
from models import LANGUAGES, Customer, Rep

# The contact columns channels add beyond phone and chat id (an email address).
ADDRESSES = address_columns()
COLUMNS = Columns(
    required=("external_id", "name"),
    optional=(
        "phone",
        "telegram_chat_id",
        "language",
        "timezone",
        "channel",
        "rep_external_id",
        "tags",
        *ADDRESSES,
    ),
)
PARSERS: dict[str, Parser] = {
    "external_id": text_for(Customer.external_id),
    "name": text_for(Customer.name),
    "phone": fields.phone,
    "telegram_chat_id": fields.chat_id,
    "language": lambda text: fields.choice(text, LANGUAGES),
    "timezone": lambda text: fields.zone(text).key,
    "channel": lambda text: fields.choice(text, tuple(CHANNELS)),
    "rep_external_id": text_for(Rep.external_id),
    "tags": fields.tags,
    **{column: fields.checked(check) for column, check in ADDRESSES.items()},
}
# Columns stored as they are (rep_external_id becomes rep_id).
PLAIN = (
    "name",
    "phone",
    "telegram_chat_id",
    "language",
    "timezone",
    "channel",
    "tags",
    *ADDRESSES,
)
STORED = ("id", "external_id", "rep_id", *PLAIN)
# Exactly one value per unique column among customers: a reply must name one customer.
UNIQUE = ("phone", "telegram_chat_id")


def defaults() -> dict[str, Any]:
    """A new customer's fields when the file leaves them empty."""
    return {
        "phone": None,
        "telegram_chat_id": None,
        "language": "en",
        "timezone": None,
        "channel": DEFAULT_CHANNEL,
        "rep_id": None,
        "tags": [],
        **dict.fromkeys(ADDRESSES),
    }


@dataclass
class Plan:
    customers: Changes = field(default_factory=lambda: Changes(Customer))

    @property
    def counts(self) -> tuple[int, int, int]:
        return len(self.customers.inserts), len(self.customers.updates), self.customers.unchanged


@dataclass
class _Row:
    parsed: ParsedRow
    existing: dict[str, Any] | None
    wanted: dict[str, Any]

    @property
    def final(self) -> dict[str, Any]:
        return {**(self.existing or defaults()), **self.wanted}


def plan(session: Session, rows: list[CsvRow], context: Context) -> Plan:
    """Check every customer row against the file and the database; write nothing."""
    findings = context.findings
    parsed = parse_rows(rows, PARSERS, COLUMNS.required, context)
    existing = existing_rows(
        session, Customer, STORED, "external_id", (r.external_id for r in parsed)
    )
    rep_names = {row.values["rep_external_id"] for row in parsed if "rep_external_id" in row.values}
    rep_ids = {
        ext: row["id"]
        for ext, row in existing_rows(
            session, Rep, ("id", "external_id"), "external_id", rep_names
        ).items()
    }

    checked = []
    for row in parsed:
        wanted = {name: row.values[name] for name in PLAIN if name in row.values}
        rep = row.values.get("rep_external_id")
        if rep is not None:
            if rep in rep_ids:
                wanted["rep_id"] = rep_ids[rep]
            else:
                findings.unknown(row.line, "rep_external_id", "reps", rep)
        item = _Row(row, existing.get(row.external_id), wanted)
        _check_reachable(item, context)
        checked.append(item)
    for column in UNIQUE:
        _check_unique(session, checked, column, context)

    result = Plan()
    for item in checked:
        if item.existing is None:
            result.customers.add({"external_id": item.parsed.external_id, **item.final}, None)
        else:
            result.customers.add(item.wanted, item.existing)
    return result


def _check_reachable(item: _Row, context: Context) -> None:
    """The chosen channel needs one of its contact fields (messaging/channels/registry.py)."""
    if not item.parsed.usable("phone", "telegram_chat_id", "channel", *ADDRESSES):
        return
    name = item.final["channel"]
    needed = CHANNELS[name].contact_fields
    if all(item.final.get(field) is None for field in needed):
        what = " or ".join(f"a {field}" for field in needed)
        context.findings.error(item.parsed.line, needed[0], f"channel {name} needs {what}")


def _check_unique(session: Session, checked: list[_Row], column: str, context: Context) -> None:
    """A phone or chat id given in the file belongs to no other customer, here or in the database."""
    given = [(item.parsed.line, item.wanted[column]) for item in checked if column in item.wanted]
    first_line = check_unique_in_file(given, column, context.findings)
    # A customer whose cell is given loses their stored value, so they are no obstacle.
    replaced = {item.parsed.external_id for item in checked if column in item.wanted}
    for value, holders in owners(session, Customer, column, first_line).items():
        others = [external_id for external_id in holders if external_id not in replaced]
        if others:
            message = f"{value} already belongs to customer {others[0]!r}"
            context.findings.error(first_line[value], column, message)


def apply(session: Session, result: Plan) -> None:
    """Write the plan (in the caller's transaction)."""
    moved = [row["id"] for row in result.customers.updates if "telegram_chat_id" in row]
    # Chat ids are unique at every statement: free the moved ones before handing them out.
    for chunk in chunks(moved):
        session.execute(
            update(Customer).where(Customer.id.in_(chunk)).values(telegram_chat_id=None),
            execution_options={"synchronize_session": False},
        )
    write(session, result.customers)
