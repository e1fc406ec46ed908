"""The dashboard: NPS with its margin of error, by rep, product/category and language, the score
distribution, the trend by week or month, detractors' words, the contact mix, what waits for a
human, and Telegram updates that could not be handled.

Every widget follows the filters in the query string (web.admin.filtering): the
period, rep, product, category, kind, channel and language. They are applied in
the reports layer, under `accounts.scope`, so a rep sees only their own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from accounts.scope import Viewer
from clock import utcnow
from models import FailedTelegramUpdate
from reports import breakdown, themes
from reports.filters import PERIODS, DashboardFilter
from reports.mix import MixRow, contact_mix
from reports.nps import GROUP_FIELDS, NpsFigures, NpsGroup, nps_report
from web.admin import charts, lookups
from web.admin.auth import StaffDep
from web.admin.filtering import read_filters
from web.admin.rendering import page
from web.deps import SessionDep

router = APIRouter()

# The "NPS by ..." widgets, by the group they break the score down by.
BREAKDOWNS = {"rep": "NPS by rep", "product": "NPS by product", "category": "NPS by category",
              "language": "NPS by language"}  # fmt: skip
RECENT_SHOWN = 8


@dataclass(frozen=True)
class Dashboard:
    filters: DashboardFilter
    trend_by: str
    figures: NpsFigures
    groups: dict[str, tuple[NpsGroup, ...]]
    distribution: dict[int, int]
    trend: list[breakdown.TrendBucket]
    themes: list[themes.LanguageThemes]
    mix: list[MixRow]
    mix_overall: MixRow
    escalations: lookups.EscalationCounts
    recent: list[breakdown.RecentAnswer]
    failed_updates: list[FailedTelegramUpdate]


def gather(
    session: Session, now: datetime, filters: DashboardFilter, viewer: Viewer, trend_by: str
) -> Dashboard:
    """Every figure on the page, each of them only over what `viewer` may see and `filters` keep."""
    window = filters.window(now)
    since, until = window

    overall = nps_report(session, since, until, viewer=viewer, filters=filters).overall
    mix_overall = contact_mix(session, since, until, None, viewer=viewer, filters=filters)[0]
    return Dashboard(
        filters=filters,
        trend_by=trend_by,
        figures=overall,
        groups={
            by: nps_report(session, since, until, by, viewer=viewer, filters=filters).groups
            for by in BREAKDOWNS
        },
        distribution=breakdown.score_distribution(session, filters, window, viewer),
        trend=breakdown.nps_trend(session, filters, window, viewer, now, trend_by),
        themes=themes.detractor_themes(session, filters, window, viewer),
        mix=contact_mix(session, since, until, "rep", viewer=viewer, filters=filters),
        mix_overall=mix_overall,
        escalations=lookups.escalation_counts(session, now, viewer=viewer, filters=filters),
        recent=breakdown.recent_answers(session, filters, window, viewer, RECENT_SHOWN),
        # What the bot could not handle is for admins to look into, not for a rep's day.
        failed_updates=lookups.failed_telegram_updates(session) if viewer.sees_everything else [],
    )


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, staff: StaffDep, session: SessionDep, trend: str = "month"
) -> HTMLResponse:
    if trend not in breakdown.TREND_BUCKETS:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"trend {trend!r} is not week or month")
    filters = read_filters(request, request.app.state.settings.default_tz)
    data = gather(session, utcnow(), filters, staff.viewer, trend)
    figures = data.figures
    points = [
        charts.TrendPoint(bucket.label, bucket.figures.nps, bucket.figures.responses)
        for bucket in data.trend
    ]
    return page(
        request,
        "dashboard.html",
        {
            "section": "dashboard",
            "periods": PERIODS,
            "group_fields": GROUP_FIELDS,
            "breakdowns": BREAKDOWNS,
            "choices": breakdown.choices(session, staff.viewer),
            "data": data,
            "f": filters,
            "share": _share(figures),
            # The chart functions escape every text they draw.
            "trend_svg": Markup(charts.nps_trend_svg(points, title=f"NPS by {trend}", per=trend)),
            "distribution_svg": Markup(charts.score_distribution_svg(data.distribution)),
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
