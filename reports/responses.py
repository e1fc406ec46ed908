"""Every response, with who gave it, about what, and through which contact: filtered and paged.

One statement (`_filtered`) decides which responses a reader may see and which
the filters keep; the page, its count and the CSV export all start from it, so
a later rule ("a rep sees only their own customers") is added there once.

The rep is the customer's owner rep, as in `reports.nps`; the product and its
category come from the purchase the check-in was about (none for a periodic
check-in without one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, literal, or_, select
from sqlalchemy.orm import Session

from accounts.scope import EVERYONE, Viewer, scope
from models import CheckIn, Customer, Purchase, Rep, Response
from models.db import case_folded

AnySelect = Select[*tuple[Any, ...]]
NPS_CATEGORIES = ("promoter", "passive", "detractor")
# Rows the export reads from the database at a time.
STREAM_BATCH = 500


@dataclass(frozen=True)
class ResponseFilter:
    """What to keep; an empty field keeps everything. Dates are whole days in `zone`."""

    since: date | None = None
    until: date | None = None  # inclusive
    rep: str = ""  # the owner rep's external id
    product: str = ""  # part of the product's name, any case
    category: str = ""  # the product's category, exactly
    kind: str = ""
    channel: str = ""
    language: str = ""
    nps_category: str = ""  # promoter | passive | detractor
    text: str = ""  # part of the customer's name or of the comment, any case
    zone: str = "UTC"
    # Whose responses these may be: a rep sees their own customers', a manager their team's.
    viewer: Viewer = EVERYONE

    def window(self) -> tuple[datetime | None, datetime | None]:
        """`[start, end)` in aware datetimes: midnight of `since` to the midnight after `until`."""
        zone = ZoneInfo(self.zone)
        start = datetime.combine(self.since, time(), zone) if self.since else None
        end = datetime.combine(self.until + timedelta(days=1), time(), zone) if self.until else None
        return start, end

    def is_empty(self) -> bool:
        return not any(
            getattr(self, f.name) for f in fields(self) if f.name not in ("zone", "viewer")
        )


@dataclass(frozen=True)
class ResponseRow:
    response_id: int
    received_at: datetime
    score: int
    category: str  # promoter | passive | detractor
    comment: str
    customer_external_id: str
    customer_name: str
    customer_phone: str | None
    language: str
    rep_external_id: str | None
    rep_name: str | None
    product: str | None
    product_category: str | None
    kind: str
    channel: str | None


def _filtered(session: Session, filters: ResponseFilter) -> AnySelect:
    query: AnySelect = (
        select(
            Response.id,
            Response.received_at,
            Response.score,
            Response.category,
            Response.comment,
            Customer.external_id,
            Customer.name,
            Customer.phone,
            Customer.language,
            Rep.external_id,
            Rep.name,
            Purchase.product,
            Purchase.category,
            CheckIn.kind,
            Response.channel,
        )
        .select_from(Response)
        .join(CheckIn, CheckIn.id == Response.checkin_id)
        .join(Customer, Customer.id == Response.customer_id)
        .outerjoin(Purchase, Purchase.id == CheckIn.purchase_id)
        .outerjoin(Rep, Rep.id == Customer.rep_id)
    )
    query = scope(query, filters.viewer)
    start, end = filters.window()
    if start is not None:
        query = query.where(Response.received_at >= start)
    if end is not None:
        query = query.where(Response.received_at < end)
    exact = {
        Rep.external_id: filters.rep,
        Purchase.category: filters.category,
        CheckIn.kind: filters.kind,
        Response.channel: filters.channel,
        Customer.language: filters.language,
        Response.category: filters.nps_category,
    }
    for column, wanted in exact.items():
        if wanted:
            query = query.where(column == wanted)

    # Case folded by the database on both sides, in every script (SQLite's own lower()
    # and ILIKE know only ASCII).
    def contains(column: Any, text: str) -> ColumnElement[bool]:
        pattern = case_folded(session, literal(_contains(text)))
        return case_folded(session, column).like(pattern, escape="\\")

    if filters.product.strip():
        query = query.where(contains(Purchase.product, filters.product))
    if filters.text.strip():
        query = query.where(
            or_(contains(Customer.name, filters.text), contains(Response.comment, filters.text))
        )
    return query


def _contains(text: str) -> str:
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _newest_first(query: AnySelect) -> AnySelect:
    return query.order_by(Response.received_at.desc(), Response.id.desc())


def find_responses(
    session: Session, filters: ResponseFilter, *, offset: int = 0, limit: int = 50
) -> list[ResponseRow]:
    """One page of the responses `filters` keep, newest first."""
    rows = session.execute(_newest_first(_filtered(session, filters)).offset(offset).limit(limit))
    return [ResponseRow(*row) for row in rows]


def count_responses(session: Session, filters: ResponseFilter) -> int:
    """How many responses `filters` keep."""
    inner = _filtered(session, filters).subquery()
    return int(session.scalar(select(func.count()).select_from(inner)) or 0)


def stream_responses(session: Session, filters: ResponseFilter) -> Iterator[ResponseRow]:
    """Every response `filters` keep, newest first, read a batch at a time."""
    query = _newest_first(_filtered(session, filters)).execution_options(yield_per=STREAM_BATCH)
    for row in session.execute(query):
        yield ResponseRow(*row)


@dataclass(frozen=True)
class FilterChoices:
    """What the filter menus offer: the values that occur (reps by external id and name)."""

    reps: list[tuple[str, str]]
    categories: list[str]
    channels: list[str]


def filter_choices(session: Session) -> FilterChoices:
    reps = session.execute(select(Rep.external_id, Rep.name).order_by(Rep.name, Rep.external_id))
    categories = session.scalars(
        select(Purchase.category)
        .distinct()
        .where(Purchase.category != "")
        .order_by(Purchase.category)
    )
    channels = session.scalars(
        select(Response.channel)
        .distinct()
        .where(Response.channel.is_not(None))
        .order_by(Response.channel)
    )
    return FilterChoices(
        reps=[(external_id, name) for external_id, name in reps],
        categories=list(categories),
        channels=[channel for channel in channels if channel],
    )
