"""What the dashboard shows beside the NPS itself, under the same filters: the 0–10 score
distribution, the trend by week or month, and the menus' choices.

Every query starts from `answered()`: responses joined to their check-in,
customer, rep and (outer) purchase, narrowed by `accounts.scope` and by a
`DashboardFilter`, within a `[start, end)` window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from accounts.scope import Viewer, scope, team
from models import CheckIn, Customer, Purchase, Rep, Response
from reports.filters import DashboardFilter
from reports.nps import NpsFigures, nps_report

Window = tuple[datetime | None, datetime | None]
TREND_BUCKETS = ("week", "month")
# How far back a trend reaches when the period is open ("all time", "this year"...).
TREND_LENGTH = {"week": 12, "month": 12}


def answered(
    columns: tuple[Any, ...], filters: DashboardFilter, window: Window, viewer: Viewer
) -> Select[Any]:
    """A select of `columns` over the responses the viewer may see and the filters keep."""
    query = (
        select(*columns)
        .select_from(Response)
        .join(CheckIn, CheckIn.id == Response.checkin_id)
        .join(Customer, Customer.id == Response.customer_id)
        .outerjoin(Purchase, Purchase.id == CheckIn.purchase_id)
        .outerjoin(Rep, Rep.id == Customer.rep_id)
    )
    query = filters.narrow(scope(query, viewer))
    start, end = window
    if start is not None:
        query = query.where(Response.received_at >= start)
    if end is not None:
        query = query.where(Response.received_at < end)
    return query


def score_distribution(
    session: Session, filters: DashboardFilter, window: Window, viewer: Viewer
) -> dict[int, int]:
    """How many answers gave each score, 0 to 10 (zeros included)."""
    inner = answered((Response.score.label("score"),), filters, window, viewer).subquery()
    rows = session.execute(select(inner.c.score, func.count()).group_by(inner.c.score))
    counts = dict.fromkeys(range(11), 0)
    for score, n in rows:
        counts[int(score)] = int(n)
    return counts


@dataclass(frozen=True)
class TrendBucket:
    key: str  # YYYY-MM or the Monday YYYY-MM-DD
    label: str  # "Mar 2026", or "09 Mar 2026" for a week (day, month, year)
    figures: NpsFigures


def bucket_starts(bucket: str, first: date, last: date) -> list[date]:
    """The first day of every week (Monday) or month from `first`'s to `last`'s, in order."""
    if bucket == "week":
        day = first - timedelta(days=first.weekday())
        starts = []
        while day <= last:
            starts.append(day)
            day += timedelta(days=7)
        return starts
    year, month, starts = first.year, first.month, []
    while date(year, month, 1) <= last:
        starts.append(date(year, month, 1))
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return starts


def nps_trend(
    session: Session,
    filters: DashboardFilter,
    window: Window,
    viewer: Viewer,
    now: datetime,
    bucket: str = "month",
) -> list[TrendBucket]:
    """NPS per UTC week or month over the window (the last 12 when it is open at the start)."""
    if bucket not in TREND_BUCKETS:
        raise ValueError(f"trend {bucket!r} is not one of {', '.join(TREND_BUCKETS)}")
    start, end = window
    last = ((end - timedelta(microseconds=1)) if end else now).astimezone(UTC).date()
    if start is not None:
        first = start.astimezone(UTC).date()
    elif bucket == "week":
        first = last - timedelta(weeks=TREND_LENGTH["week"] - 1)
    else:
        back = last.year * 12 + last.month - 1 - (TREND_LENGTH["month"] - 1)
        first = date(back // 12, back % 12 + 1, 1)
    starts = bucket_starts(bucket, first, last)
    since = start or datetime.combine(starts[0], datetime.min.time(), UTC)
    report = nps_report(session, since, end, bucket, viewer=viewer, filters=filters)
    found = {group.key: group.figures for group in report.groups}
    buckets = []
    for day in starts:
        key = day.isoformat() if bucket == "week" else day.strftime("%Y-%m")
        label = day.strftime("%d %b %Y") if bucket == "week" else day.strftime("%b %Y")
        buckets.append(TrendBucket(key, label, found.get(key, NpsFigures())))
    return buckets


@dataclass(frozen=True)
class RecentAnswer:
    customer_external_id: str
    customer_name: str
    score: int
    category: str
    comment: str
    kind: str
    received_at: datetime


def recent_answers(
    session: Session, filters: DashboardFilter, window: Window, viewer: Viewer, limit: int = 8
) -> list[RecentAnswer]:
    """The newest answers the filters keep, with who gave them and what they said."""
    columns = (
        Customer.external_id,
        Customer.name,
        Response.score,
        Response.category,
        Response.comment,
        CheckIn.kind,
        Response.received_at,
    )
    query = answered(columns, filters, window, viewer)
    query = query.order_by(Response.received_at.desc(), Response.id.desc()).limit(limit)
    return [RecentAnswer(*row) for row in session.execute(query)]


@dataclass(frozen=True)
class Choices:
    """What the filter menus offer: values that occur in what the viewer may see."""

    reps: list[tuple[str, str]]  # external id, name
    products: list[str]
    categories: list[str]
    kinds: list[str]
    channels: list[str]
    languages: list[str]


def choices(session: Session, viewer: Viewer) -> Choices:
    reps_query = select(Rep.external_id, Rep.name).order_by(Rep.name, Rep.external_id)
    visible = team(viewer)
    if visible is not None:
        reps_query = reps_query.where(Rep.id.in_(visible))

    def distinct(column: Any) -> list[str]:
        query = answered((column,), DashboardFilter(), (None, None), viewer).distinct()
        return sorted({value for value in session.scalars(query) if value})

    return Choices(
        reps=[
            (external_id, name or external_id) for external_id, name in session.execute(reps_query)
        ],
        products=distinct(Purchase.product),
        categories=distinct(Purchase.category),
        kinds=distinct(CheckIn.kind),
        channels=distinct(Response.channel),
        languages=distinct(Customer.language),
    )
