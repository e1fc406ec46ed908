"""purchases.csv: what each customer bought, and when it was promised and delivered.

A time without a zone ("2026-03-01 14:30") is read in the customer's time zone,
or in AFTERCARE_DEFAULT_TZ when the customer has none. Customers (and reps)
must be imported first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cadence.due import first_service_at
from cadence.rules import DEFAULT_RULES, CadenceRules, load_rules
from importing import fields
from importing.csv_reader import Columns, CsvRow
from importing.rows import Context, ParsedRow, Parser, parse_rows, text_for
from importing.upsert import Changes, existing_rows, write
from models import Customer, Purchase, Rep

# The proactive service check (DESIGN: every 182 days after delivery for these
# categories, per the cadence rules). The scheduler advances `next_service_at`;
# the import seeds it.
SERVICE_CATEGORIES = frozenset(DEFAULT_RULES.service_categories)
SERVICE_INTERVAL = timedelta(days=DEFAULT_RULES.service_days)

COLUMNS = Columns(
    required=("external_id", "customer_external_id", "product"),
    optional=(
        "category",
        "purchased_at",
        "promised_delivery_date",
        "delivered_at",
        "rep_external_id",
    ),
)
TIMES = ("purchased_at", "delivered_at")
_category = text_for(Purchase.category)
PARSERS: dict[str, Parser] = {
    "external_id": text_for(Purchase.external_id),
    "customer_external_id": text_for(Customer.external_id),
    "product": text_for(Purchase.product),
    "category": lambda text: _category(text.lower()),
    # Times are parsed once the customer, and so the zone, is known.
    "purchased_at": str,
    "delivered_at": str,
    "promised_delivery_date": fields.day,
    "rep_external_id": text_for(Rep.external_id),
}
PLAIN = ("product", "category", "promised_delivery_date")
STORED = (
    "id",
    "external_id",
    "customer_id",
    "rep_id",
    "purchased_at",
    "delivered_at",
    "next_service_at",
    *PLAIN,
)
DEFAULTS: dict[str, Any] = {
    "category": "",
    "purchased_at": None,
    "promised_delivery_date": None,
    "delivered_at": None,
    "rep_id": None,
    "next_service_at": None,
}


@dataclass
class Plan:
    purchases: Changes = field(default_factory=lambda: Changes(Purchase))
    # Customers whose periodic check-ins start counting from a delivery in this file.
    anchors: Changes = field(default_factory=lambda: Changes(Customer))

    @property
    def counts(self) -> tuple[int, int, int]:
        return len(self.purchases.inserts), len(self.purchases.updates), self.purchases.unchanged


def plan(session: Session, rows: list[CsvRow], context: Context) -> Plan:
    """Check every purchase row against its customer and rep; write nothing."""
    findings = context.findings
    parsed = parse_rows(rows, PARSERS, COLUMNS.required, context)
    existing = existing_rows(
        session, Purchase, STORED, "external_id", (r.external_id for r in parsed)
    )
    customers = existing_rows(
        session,
        Customer,
        ("id", "external_id", "timezone", "periodic_anchor_at"),
        "external_id",
        (
            row.values["customer_external_id"]
            for row in parsed
            if "customer_external_id" in row.values
        ),
    )
    rep_names = (row.values["rep_external_id"] for row in parsed if "rep_external_id" in row.values)
    reps = existing_rows(session, Rep, ("id", "external_id"), "external_id", rep_names)

    rules = load_rules(session)
    result = Plan()
    first_delivery: dict[int, datetime] = {}
    for row in parsed:
        customer = customers.get(row.values.get("customer_external_id", ""))
        if customer is None and row.usable("customer_external_id"):
            ext = row.values["customer_external_id"]
            findings.unknown(row.line, "customer_external_id", "customers", ext)
        wanted = {name: row.values[name] for name in PLAIN if name in row.values}
        wanted.update(_times(row, _zone_of(customer, context), context))
        if customer is not None:
            wanted["customer_id"] = customer["id"]
        rep = row.values.get("rep_external_id")
        if rep is not None:
            if rep in reps:
                wanted["rep_id"] = reps[rep]["id"]
            else:
                findings.unknown(row.line, "rep_external_id", "reps", rep)
        old = existing.get(row.external_id)
        final = {**(old or DEFAULTS), **wanted}
        _check_times(row, final, context)
        wanted["next_service_at"] = _next_service(final, old, rules)
        if old is None:
            result.purchases.add({"external_id": row.external_id, **DEFAULTS, **wanted}, None)
        else:
            result.purchases.add(wanted, old)
        delivered = final["delivered_at"]
        if customer is not None and customer["periodic_anchor_at"] is None and delivered:
            first_delivery[customer["id"]] = min(
                delivered, first_delivery.get(customer["id"], delivered)
            )
    for customer_id, delivered in first_delivery.items():
        result.anchors.updates.append({"id": customer_id, "periodic_anchor_at": delivered})
    return result


def _zone_of(customer: dict[str, Any] | None, context: Context) -> ZoneInfo:
    if customer is None or not customer["timezone"]:
        return context.default_zone
    try:
        return fields.zone(customer["timezone"])
    except fields.FieldError:
        return context.default_zone


def _times(row: ParsedRow, zone: ZoneInfo, context: Context) -> dict[str, datetime]:
    values = {}
    for column in TIMES:
        if column not in row.values:
            continue
        try:
            values[column] = fields.instant(row.values[column], zone)
        except fields.FieldError as exc:
            context.findings.error(row.line, column, str(exc))
            row.bad.add(column)
    return values


def _check_times(row: ParsedRow, final: dict[str, Any], context: Context) -> None:
    """Odd but possible times are warnings: the file is still imported."""
    delivered, purchased = final["delivered_at"], final["purchased_at"]
    if "delivered_at" in row.values and delivered and delivered > context.now:
        message = f"{row.values['delivered_at']} is in the future; check-ins will wait for it"
        context.findings.warn(row.line, "delivered_at", message)
    if delivered and purchased and delivered < purchased and row.usable(*TIMES):
        context.findings.warn(row.line, "delivered_at", "is before purchased_at")


def _next_service(
    final: dict[str, Any], old: dict[str, Any] | None, rules: CadenceRules
) -> datetime | None:
    """Delivery + the service interval for service categories; kept when the planner moved it on.

    A purchase that is not (or no longer) delivered, or not in a service
    category, has no service check.
    """
    delivered = final["delivered_at"]
    if delivered is None:
        return None
    unchanged = old is not None and (old["delivered_at"], old.get("category")) == (
        delivered,
        final["category"],
    )
    if unchanged and old is not None and old["next_service_at"] is not None:
        return old["next_service_at"]
    return first_service_at(delivered, final["category"] or "", rules)


def apply(session: Session, result: Plan) -> None:
    """Write the plan (in the caller's transaction)."""
    write(session, result.purchases)
    write(session, result.anchors)
