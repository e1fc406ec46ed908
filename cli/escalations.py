"""`bot.py escalations`: how fast unhappy customers are taken and fixed, and whether they came back."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import click

from cli.common import database, instant_option, load_settings
from cli.reports import BoundType
from clock import Bound, utcnow
from reports.escalations import EscalationFigures, EscalationReport, escalation_metrics


@click.command("escalations")
@click.option("--since", type=BoundType(), help="First day counted (UTC). Default: the beginning.")
@click.option("--until", type=BoundType(), help="Last day counted, inclusive (UTC). Default: now.")
@instant_option("--now", "Judge open escalations' SLAs as of this instant. Default: now.")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON document.")
def escalations_command(
    since: Bound | None, until: Bound | None, now: datetime | None, as_json: bool
) -> None:
    """Escalation metrics for the escalations opened in the window, overall and per kind.

    Median time to acknowledge and to resolve, the share that breached the SLA
    (acknowledged late, or still waiting past it), how many went to a manager,
    and the recovery rate: of the customers who answered the recovery check-in,
    the share who scored 7 or more. The JSON is the same as
    GET /api/escalations/metrics.

    A DATE is a UTC day (YYYY-MM-DD), both ends counted; an ISO 8601 time is
    taken as an exact instant.
    """
    factory = database(load_settings())
    with factory() as session:
        try:
            report = escalation_metrics(session, now or utcnow(), since, until)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(render_table(report))


def render_table(report: EscalationReport) -> str:
    """One aligned line per group (overall first), then a legend."""
    rows = [("overall", report.overall), *report.groups]
    width = max(len(key) for key, _ in rows)
    header = (
        f"{'':<{width}}  {'opened':>6}  {'acked':>5}  {'fixed':>5}  {'to ack':>7}  "
        f"{'to fix':>7}  {'SLA miss':>12}  {'to mgr':>6}  {'recovered':>13}"
    )
    lines = [_title(report), "", header]
    for key, figures in rows:
        lines.append(f"{key:<{width}}  {_row(figures)}")
    lines += [
        "",
        "to ack / to fix: median time from opening. SLA miss: acknowledged late or still",
        "waiting past the SLA. recovered: recovery answers of 7 or more, of those answered.",
    ]
    if not report.overall.escalations:
        lines.append("\nNo escalations were opened in this window.")
    return "\n".join(lines)


def _title(report: EscalationReport) -> str:
    """Named as `bot.py nps` names its window: whole days as dates, the last one inclusive."""
    if report.since is None and report.until is None:
        return "Escalations, all time"
    since, until = report.since, report.until
    if since is None:
        start = "the beginning"
    else:
        start = since.date().isoformat() if since.time() == time() else since.isoformat()
    if until is None:
        end = "now"
    elif until.time() == time():
        end = f"{(until - timedelta(days=1)).date().isoformat()} (inclusive)"
    else:
        end = f"{until.isoformat()} (exclusive)"
    return f"Escalations, {start} to {end}"


def _row(figures: EscalationFigures) -> str:
    breach = _share(figures.sla_breached, figures.sla_decided, figures.sla_breach_rate)
    recovered = _share(figures.recovered, figures.recovery_answered, figures.recovery_rate)
    return (
        f"{figures.escalations:>6}  {figures.acknowledged:>5}  {figures.resolved:>5}  "
        f"{_duration(figures.median_minutes_to_acknowledge):>7}  "
        f"{_duration(figures.median_minutes_to_resolve):>7}  {breach:>12}  "
        f"{figures.escalated_to_manager:>6}  {recovered:>13}"
    )


def _share(part: int, whole: int, rate: float | None) -> str:
    return "-" if rate is None else f"{part}/{whole} {rate:.0f}%"


def _duration(minutes: float | None) -> str:
    """12 min, 2 h 05, 3 d 04 h: short enough for a column."""
    if minutes is None:
        return "-"
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours = int(minutes // 60)
    if hours < 48:
        return f"{hours} h {int(minutes % 60):02d}"
    return f"{hours // 24} d {hours % 24:02d} h"
