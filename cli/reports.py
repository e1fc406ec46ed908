"""`bot.py nps`: the NPS report in the terminal, or as the JSON document the API serves."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

import click

from cli.common import database, load_settings
from clock import Bound, parse_bound
from reports.nps import GROUP_FIELDS, TOO_FEW_ANSWERS, NpsFigures, NpsReport, nps_report

# Below this many answers the margin of error is wide (and the usual formula
# understates it for unanimous answers), so the table says so.
SMALL_SAMPLE = 30
MOE_WIDTH = len(TOO_FEW_ANSWERS)


class BoundType(click.ParamType):
    """DATE (YYYY-MM-DD, a whole UTC day) or an ISO 8601 instant."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse_bound(value.strip())
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time.", param, ctx)


@click.command("nps")
@click.option("--since", type=BoundType(), help="First day counted (UTC). Default: the beginning.")
@click.option("--until", type=BoundType(), help="Last day counted, inclusive (UTC). Default: now.")
@click.option("--by", type=click.Choice(GROUP_FIELDS), help="Also break the score down by this.")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON document.")
def nps_command(since: Bound | None, until: Bound | None, by: str | None, as_json: bool) -> None:
    """Net Promoter Score of the answers received, all time unless limited.

    Promoters score 9–10, passives 7–8, detractors 0–6; NPS = % promoters −
    % detractors (−100..+100). The JSON is the same as GET /api/nps.

    A DATE is a day in UTC (YYYY-MM-DD), both ends counted; an ISO 8601 time
    (2026-03-01T09:00:00+01:00) is also accepted, as an exact instant.
    """
    factory = database(load_settings())
    with factory() as session:
        try:
            report = nps_report(session, since, until, by)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(render_table(report))


def render_table(report: NpsReport) -> str:
    """The report as an aligned plain-text table: the overall line, then one per group."""
    rows = [("overall", report.overall)] + [(g.shown, g.figures) for g in report.groups]
    width = max(len("overall"), *(len(key) for key, _ in rows))
    header = f"{'':<{width}}  {'n':>6}  {'NPS':>6}  {'±MoE':>{MOE_WIDTH}}  {'sent':>6}  {'rate':>7}"
    lines = [_title(report), "", header]
    for key, figures in rows:
        lines.append(f"{key:<{width}}  {_row(figures)}")
    if any(0 < figures.responses < SMALL_SAMPLE for _, figures in rows):
        lines += ["", f"* fewer than {SMALL_SAMPLE} answers: read the score with care."]
    return "\n".join(lines)


def _title(report: NpsReport) -> str:
    by = f", by {report.by}" if report.by else ""
    if report.since is None and report.until is None:
        return f"NPS, all time{by}"
    return f"NPS, {_start(report.since)} to {_end(report.until)}{by}"


def _start(since: datetime | None) -> str:
    if since is None:
        return "the beginning"
    return since.date().isoformat() if since.time() == time() else since.isoformat()


def _end(until: datetime | None) -> str:
    if until is None:
        return "now"
    if until.time() == time():  # a whole day: name the last day counted
        return f"{(until - timedelta(days=1)).date().isoformat()} (inclusive)"
    return f"{until.isoformat()} (exclusive)"


def _row(figures: NpsFigures) -> str:
    nps = "-" if figures.nps is None else f"{figures.nps:+.1f}" if figures.nps else "0.0"
    moe = (
        f"±{figures.margin_of_error:.1f}"
        if figures.margin_of_error is not None
        else figures.margin_note or "-"
    )
    rate = "-" if figures.response_rate is None else f"{figures.response_rate:.1f}%"
    small = " *" if 0 < figures.responses < SMALL_SAMPLE else ""
    return f"{figures.responses:>6}  {nps:>6}  {moe:>{MOE_WIDTH}}  {figures.surveys_sent:>6}  {rate:>7}{small}"
