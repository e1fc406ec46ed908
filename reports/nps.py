"""Net Promoter Score over a time window, overall and per group.

The window is half-open, `[since, until)`, in UTC. A *date* bound means the
whole of that UTC day on both ends: `since=2026-03-01, until=2026-03-31`
covers every response received from 1 March 00:00 up to (not including)
1 April 00:00. A *datetime* bound is taken as the exact instant. `None` leaves
that side open, so `(None, None)` is all time.

Counting happens in the database (GROUP BY), never by loading every row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

from accounts.scope import EVERYONE, Viewer, scope
from clock import Bound, window_end, window_start
from models import SURVEY_KINDS, CheckIn, Customer, Purchase, Rep, Response
from reports.buckets import week_start
from reports.filters import DashboardFilter

GROUP_FIELDS = ("rep", "product", "category", "kind", "channel", "language", "month")
# The dashboard's weekly trend also groups by the UTC week (not offered by the CLI or API).
TREND_FIELDS = ("month", "week")

# The 95% confidence interval's z value.
Z_95 = 1.96
# Fewer answers than this get no margin of error, only this note (CLI, API and dashboard).
MIN_ANSWERS_FOR_MARGIN = 10
TOO_FEW_ANSWERS = "too few answers"

KeyExpression = ColumnElement[str] | InstrumentedAttribute[str]
SelectT = TypeVar("SelectT", bound=Select)


@dataclass(frozen=True)
class NpsFigures:
    """The counts behind one NPS number, and what follows from them."""

    responses: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    surveys_sent: int = 0

    @property
    def nps(self) -> float | None:
        """% promoters − % detractors, −100..+100, one decimal; None without responses."""
        if not self.responses:
            return None
        return round(100 * (self.promoters - self.detractors) / self.responses, 1)

    @property
    def response_rate(self) -> float | None:
        """Responses per survey sent in the window, as a percentage; None when none were sent.

        Both counts are taken over the same window, not as a cohort, so a survey
        sent just before `since` and answered inside it can push this past 100.
        """
        if not self.surveys_sent:
            return None
        return round(100 * self.responses / self.surveys_sent, 1)

    @property
    def margin_of_error(self) -> float | None:
        """Half-width of the 95% confidence interval of the NPS, in points.

        None below MIN_ANSWERS_FOR_MARGIN answers: the normal approximation means
        nothing there (two answers gave ±138.6, wider than the whole scale).
        """
        n = self.responses
        if n < MIN_ANSWERS_FOR_MARGIN:
            return None
        p_pro, p_det = self.promoters / n, self.detractors / n
        variance = p_pro + p_det - (p_pro - p_det) ** 2
        return round(Z_95 * math.sqrt(max(variance, 0.0) / n) * 100, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "nps": self.nps,
            "responses": self.responses,
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
            "surveys_sent": self.surveys_sent,
            "response_rate": self.response_rate,
            "margin_of_error": self.margin_of_error,
            "margin_note": self.margin_note,
        }

    @property
    def margin_note(self) -> str | None:
        """Why there is no margin of error: "too few answers" with 1..9 of them, else None."""
        return TOO_FEW_ANSWERS if 0 < self.responses < MIN_ANSWERS_FOR_MARGIN else None


@dataclass(frozen=True)
class NpsGroup:
    key: str
    figures: NpsFigures
    label: str = ""  # what a person reads: a rep's name, else the key

    @property
    def shown(self) -> str:
        return self.label or self.key


@dataclass(frozen=True)
class NpsReport:
    """The overall figures for a window, and one row per group when grouped."""

    since: datetime | None
    until: datetime | None
    by: str | None
    overall: NpsFigures
    groups: tuple[NpsGroup, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The JSON document shared by `bot.py nps --json` and `GET /api/nps`."""
        return {
            **self.overall.as_dict(),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "by": self.by,
            "groups": [
                {"key": group.key, "label": group.shown, **group.figures.as_dict()}
                for group in self.groups
            ],
        }


def nps_report(
    session: Session,
    since: Bound | None = None,
    until: Bound | None = None,
    by: str | None = None,
    *,
    viewer: Viewer = EVERYONE,
    filters: DashboardFilter | None = None,
) -> NpsReport:
    """NPS of the responses received in `[since, until)`, grouped `by` one of GROUP_FIELDS.

    Only the responses `viewer` may see count (accounts.scope): a rep's NPS is their own.
    `filters` keep only one rep's, product's, kind's... (their period is not read here).
    """
    if by is not None and by not in (*GROUP_FIELDS, *TREND_FIELDS):
        raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(GROUP_FIELDS)}")
    start, end = window_start(since), window_end(until)
    if start is not None and end is not None and start >= end:
        raise ValueError(
            f"the window is empty: since {start.isoformat()} ≥ until {end.isoformat()}"
        )

    keep = filters or DashboardFilter()
    overall = _figures(session, start, end, None, viewer, keep).get("", NpsFigures())
    groups: tuple[NpsGroup, ...] = ()
    if by is not None:
        per_key = _figures(session, start, end, by, viewer, keep)
        labels = _rep_names(session, per_key) if by == "rep" else {}
        groups = tuple(NpsGroup(key, per_key[key], labels.get(key, key)) for key in sorted(per_key))
    return NpsReport(since=start, until=end, by=by, overall=overall, groups=groups)


def _rep_names(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """Rep external ids to names, as `mix` shows them; a rep without a name keeps the id."""
    rows = session.execute(select(Rep.external_id, Rep.name).where(Rep.external_id.in_(list(keys))))
    return {external_id: name or external_id for external_id, name in rows}


Window = tuple[datetime | None, datetime | None]


def _figures(
    session: Session,
    start: datetime | None,
    end: datetime | None,
    by: str | None,
    viewer: Viewer,
    keep: DashboardFilter,
) -> dict[str, NpsFigures]:
    answered = _answered_counts(session, (start, end), by, viewer, keep)
    sent = _sent_counts(session, (start, end), by, viewer, keep)
    figures = {}
    for key in answered.keys() | sent.keys():
        responses, promoters, passives, detractors = answered.get(key, (0, 0, 0, 0))
        figures[key] = NpsFigures(responses, promoters, passives, detractors, sent.get(key, 0))
    return figures


def _answered_counts(
    session: Session, window: Window, by: str | None, viewer: Viewer, keep: DashboardFilter
) -> dict[str, tuple[int, int, int, int]]:
    start, end = window
    inner = _within(
        viewer,
        keep,
        select(_response_key(by).label("key"), Response.score.label("score"))
        .select_from(Response)
        .join(CheckIn, CheckIn.id == Response.checkin_id)
        .join(Customer, Customer.id == Response.customer_id)
        .outerjoin(Purchase, Purchase.id == CheckIn.purchase_id)
        .outerjoin(Rep, Rep.id == Customer.rep_id),
        Response.received_at,
        start,
        end,
    ).subquery()

    def share(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    # Grouping by the subquery's column keeps PostgreSQL from seeing two
    # differently-bound copies of the same expression in SELECT and GROUP BY.
    rows = session.execute(
        select(
            inner.c.key,
            func.count(),
            share(inner.c.score >= 9),
            share(inner.c.score.between(7, 8)),
            share(inner.c.score <= 6),
        ).group_by(inner.c.key)
    )
    return {key: (int(n), int(pro), int(pas), int(det)) for key, n, pro, pas, det in rows}


def _sent_counts(
    session: Session, window: Window, by: str | None, viewer: Viewer, keep: DashboardFilter
) -> dict[str, int]:
    start, end = window
    inner = _within(
        viewer,
        keep.without("channel"),
        select(_checkin_key(by).label("key"))
        .select_from(CheckIn)
        .join(Customer, Customer.id == CheckIn.customer_id)
        .outerjoin(Purchase, Purchase.id == CheckIn.purchase_id)
        .outerjoin(Rep, Rep.id == Customer.rep_id)
        .where(CheckIn.kind.in_(SURVEY_KINDS), CheckIn.sent_at.is_not(None))
        .where(*([CheckIn.channel == keep.channel] if keep.channel else [])),
        CheckIn.sent_at,
        start,
        end,
    ).subquery()
    rows = session.execute(select(inner.c.key, func.count()).group_by(inner.c.key))
    return {key: int(n) for key, n in rows}


def _within(
    viewer: Viewer,
    keep: DashboardFilter,
    query: SelectT,
    column: Any,
    start: datetime | None,
    end: datetime | None,
) -> SelectT:
    query = keep.narrow(scope(query, viewer))
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    return query


class year_month(FunctionElement[str]):  # noqa: N801 - reads like the SQL function it stands for
    """`YYYY-MM` of a UTC timestamp column, on SQLite and PostgreSQL."""

    type = String()
    inherit_cache = True


@compiles(year_month)
@compiles(year_month, "sqlite")
def _year_month_sqlite(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite holds UTC as 'YYYY-MM-DD HH:MM:SS...' text (see models.base.UTCDateTime).
    # Also the default, for the string compiler (accounts.scope reads a query's FROM list).
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(year_month, "postgresql")
def _year_month_postgresql(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    # to_char alone would use the session's time zone; months are UTC months.
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM')"


def _placeholder(value: str) -> ColumnElement[str]:
    # Rendered inline: our own constant, and it keeps the SQL free of extra parameters.
    return literal_column(f"'{value}'", String())


def _text_or(column: Any, placeholder: str) -> ColumnElement[str]:
    return func.coalesce(func.nullif(column, ""), _placeholder(placeholder))


_SHARED_KEYS: dict[str, Callable[[], KeyExpression]] = {
    "rep": lambda: _text_or(Rep.external_id, "unassigned"),
    "product": lambda: _text_or(Purchase.product, "none"),
    "category": lambda: _text_or(Purchase.category, "none"),
    "kind": lambda: CheckIn.kind,
    "language": lambda: Customer.language,
}


def _response_key(by: str | None) -> KeyExpression:
    if by is None:
        return _placeholder("")
    if by == "channel":
        return _text_or(Response.channel, "unknown")
    if by == "month":
        return year_month(Response.received_at)
    if by == "week":
        return week_start(Response.received_at)
    return _SHARED_KEYS[by]()


def _checkin_key(by: str | None) -> KeyExpression:
    """The same grouping for surveys sent: the check-in's channel and send month."""
    if by is None:
        return _placeholder("")
    if by == "channel":
        return _text_or(CheckIn.channel, "unknown")
    if by == "month":
        return year_month(CheckIn.sent_at)
    if by == "week":
        return week_start(CheckIn.sent_at)
    return _SHARED_KEYS[by]()
