"""The admin's CSV exports: the responses a filter keeps, and the escalations, streamed.

Times are written twice: in the business's zone as "YYYY-MM-DD HH:MM" (what a
spreadsheet reads as a date and a person reads as their own clock) and as ISO
8601 UTC (what another system reads without guessing). Phone numbers are masked:
an export is a file that travels, and the external id identifies the customer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from messaging.privacy import masked
from models import Customer, Escalation, Message, Rep, Response
from reports.nps import NpsFigures, NpsReport
from reports.responses import STREAM_BATCH, ResponseFilter, stream_responses
from reports.spreadsheet import Cell, csv_chunks

RESPONSE_COLUMNS = (
    "received_local",
    "received_at_utc",
    "score",
    "category",
    "comment",
    "customer_external_id",
    "customer_name",
    "customer_phone",
    "language",
    "rep_external_id",
    "rep_name",
    "product",
    "product_category",
    "kind",
    "channel",
)

NPS_COLUMNS = (
    "group",
    "nps",
    "margin_of_error",
    "responses",
    "promoters",
    "passives",
    "detractors",
    "surveys_sent",
    "response_rate",
)

ESCALATION_COLUMNS = (
    "id",
    "status",
    "kind",
    "opened_local",
    "opened_at_utc",
    "sla_due_local",
    "acknowledged_local",
    "escalated_to_manager_local",
    "resolved_local",
    "customer_external_id",
    "customer_name",
    "rep_external_id",
    "rep_name",
    "score",
    "comment",
    "resolution_note",
)


def named_zone(columns: tuple[str, ...], zone_name: str) -> list[str]:
    """The header, each local time's column naming its zone: "received_local (Europe/Warsaw)"."""
    return [f"{name} ({zone_name})" if name.endswith("_local") else name for name in columns]


def local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def utc(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def responses_csv(session: Session, filters: ResponseFilter) -> Iterator[str]:
    """The responses `filters` keep, newest first, as CSV text chunks."""
    zone = ZoneInfo(filters.zone)
    header = named_zone(RESPONSE_COLUMNS, filters.zone)

    def rows() -> Iterator[list[Cell]]:
        for row in stream_responses(session, filters):
            yield [
                local(row.received_at, zone),
                utc(row.received_at),
                row.score,
                row.category,
                row.comment,
                row.customer_external_id,
                row.customer_name,
                masked(row.customer_phone) if row.customer_phone else "",
                row.language,
                row.rep_external_id,
                row.rep_name,
                row.product,
                row.product_category,
                row.kind,
                row.channel,
            ]

    return csv_chunks(header, rows())


def escalations_csv(session: Session, status: str, zone_name: str) -> Iterator[str]:
    """Every escalation (or those in `status`), oldest first, as CSV text chunks.

    The comment is the response's comment or, for a forwarded message, its text.
    """
    zone = ZoneInfo(zone_name)
    owner = aliased(Rep)
    query = (
        select(
            Escalation,
            Customer.external_id,
            Customer.name,
            owner.external_id,
            owner.name,
            Response.score,
            Response.comment,
            Message.body,
        )
        .join(Customer, Customer.id == Escalation.customer_id)
        .outerjoin(owner, owner.id == Escalation.rep_id)
        .outerjoin(Response, Response.id == Escalation.response_id)
        .outerjoin(Message, Message.id == Escalation.message_id)
        .order_by(Escalation.created_at, Escalation.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    if status:
        query = query.where(Escalation.status == status)
    header = named_zone(ESCALATION_COLUMNS, zone_name)

    def rows() -> Iterator[list[Cell]]:
        for escalation, customer_id, customer, rep_id, rep, score, comment, body in session.execute(
            query
        ):
            yield [
                escalation.id,
                escalation.status,
                escalation.kind,
                local(escalation.created_at, zone),
                utc(escalation.created_at),
                local(escalation.sla_due_at, zone),
                local(escalation.acknowledged_at, zone),
                local(escalation.escalated_to_manager_at, zone),
                local(escalation.resolved_at, zone),
                customer_id,
                customer,
                rep_id,
                rep,
                score,
                comment or body or "",
                escalation.resolution_note,
            ]

    return csv_chunks(header, rows())


def nps_csv(report: NpsReport) -> Iterator[str]:
    """The NPS breakdown: every respondent first (group "all"), then one row per group."""

    def row(key: str, figures: NpsFigures) -> list[Cell]:
        return [
            key,
            figures.nps,
            figures.margin_of_error,
            figures.responses,
            figures.promoters,
            figures.passives,
            figures.detractors,
            figures.surveys_sent,
            figures.response_rate,
        ]

    header = [f"{report.by or 'group'}", *NPS_COLUMNS[1:]]
    rows = [row("all", report.overall), *(row(g.key, g.figures) for g in report.groups)]
    return csv_chunks(header, rows)
