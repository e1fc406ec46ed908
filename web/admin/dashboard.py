"""The dashboard: NPS with its margin of error, the trend, the contact mix, what waits for a human,
and Telegram updates that could not be handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from accounts.scope import Viewer
from clock import utcnow
from models import FailedTelegramUpdate
from reports.mix import MixRow, contact_mix
from reports.nps import GROUP_FIELDS, NpsFigures, nps_report
from web.admin import charts, lookups
from web.admin.auth import StaffDep
from web.admin.rendering import page
from web.deps import SessionDep

router = APIRouter()

PERIODS = {"30": "Last 30 days", "90": "Last 90 days", "365": "Last 12 months", "all": "All time"}
TREND_MONTHS = 12


@dataclass(frozen=True)
class Dashboard:
    period: str
    figures: NpsFigures
    trend: list[charts.TrendPoint]
    mix: list[MixRow]
    mix_overall: MixRow
    escalations: lookups.EscalationCounts
    recent: list[lookups.RecentResponse]
    failed_updates: list[FailedTelegramUpdate]


def period_start(period: str, now: datetime) -> datetime | None:
    """The first instant the period covers; None for all time."""
    return None if period == "all" else now - timedelta(days=int(period))


def month_starts(now: datetime, count: int) -> list[date]:
    """The first day of each of the last `count` UTC months, oldest first, this month last."""
    year, month = now.year, now.month
    starts = []
    for _ in range(count):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def nps_trend(
    session: Session, now: datetime, viewer: Viewer, months: int = TREND_MONTHS
) -> list[charts.TrendPoint]:
    """NPS per UTC month over the last `months` months; a month without answers has no NPS."""
    starts = month_starts(now.astimezone(UTC), months)
    report = nps_report(session, starts[0], None, "month", viewer=viewer)
    by_month = {group.key: group.figures for group in report.groups}
    points = []
    for start in starts:
        figures = by_month.get(start.strftime("%Y-%m"), NpsFigures())
        points.append(charts.TrendPoint(start.strftime("%b %Y"), figures.nps, figures.responses))
    return points


def gather(session: Session, now: datetime, period: str, viewer: Viewer) -> Dashboard:
    """Every figure on the page, each of them only over what `viewer` may see."""
    since = period_start(period, now)
    return Dashboard(
        period=period,
        figures=nps_report(session, since, None, viewer=viewer).overall,
        trend=nps_trend(session, now, viewer),
        mix=contact_mix(session, since, None, "rep", viewer=viewer),
        mix_overall=contact_mix(session, since, None, None, viewer=viewer)[0],
        escalations=lookups.escalation_counts(session, now, viewer=viewer),
        recent=lookups.recent_responses(session, viewer=viewer),
        # What the bot could not handle is for admins to look into, not for a rep's day.
        failed_updates=lookups.failed_telegram_updates(session) if viewer.sees_everything else [],
    )


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, staff: StaffDep, session: SessionDep, period: str = "all"
) -> HTMLResponse:
    period = period if period in PERIODS else "all"
    data = gather(session, utcnow(), period, staff.viewer)
    figures = data.figures
    return page(
        request,
        "dashboard.html",
        {
            "section": "dashboard",
            "periods": PERIODS,
            "group_fields": GROUP_FIELDS,
            "data": data,
            "share": _share(figures),
            # The chart functions escape every text they draw.
            "trend_svg": Markup(charts.nps_trend_svg(data.trend)),
            "categories_svg": Markup(
                charts.categories_svg(figures.promoters, figures.passives, figures.detractors)
            ),
            "mix_svg": Markup(
                charts.contact_mix_svg([(row.label, row.counts) for row in data.mix])
            ),
            "kind_labels": charts.KIND_LABELS,
        },
    )


def _share(figures: NpsFigures) -> dict[str, str]:
    """Each category's share of the responses, as '42%' ('–' without responses)."""
    n = figures.responses
    counts = {
        "promoters": figures.promoters,
        "passives": figures.passives,
        "detractors": figures.detractors,
    }
    return {key: f"{100 * value / n:.0f}%" if n else "–" for key, value in counts.items()}
