"""`bot.py mix`: what kinds of contact each rep's customers got, and in what proportion."""

from __future__ import annotations

import json
from datetime import datetime

import click

from cli.common import database, load_settings
from cli.reports import BoundType
from clock import Bound, window_end, window_start
from models import KINDS
from reports.mix import MIX_GROUPS, MixRow, contact_mix


@click.command("mix")
@click.option("--since", type=BoundType(), help="First day counted (UTC). Default: the beginning.")
@click.option("--until", type=BoundType(), help="Last day counted, inclusive (UTC). Default: now.")
@click.option(
    "--by",
    type=click.Choice(MIX_GROUPS),
    default="rep",
    show_default=True,
    help="One row per rep (the customer's owner) or per UTC month.",
)
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON document.")
def mix_command(since: Bound | None, until: Bound | None, by: str, as_json: bool) -> None:
    """Contact mix: sent check-ins by kind (post_delivery, periodic, service,
    delay_notice, recovery), counted and as a share of each rep's contacts.

    A DATE is a UTC day (YYYY-MM-DD), both ends counted; an ISO 8601 time is
    taken as an exact instant.
    """
    factory = database(load_settings())
    with factory() as session:
        try:
            rows = contact_mix(session, since, until, by)
            overall = contact_mix(session, since, until, None)[0]
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        document = {
            "since": _iso(window_start(since)),
            "until": _iso(window_end(until)),
            "by": by,
            "kinds": list(KINDS),
            "overall": overall.as_dict(),
            "groups": [row.as_dict() for row in rows],
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(render_table(rows, overall))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def render_table(rows: list[MixRow], overall: MixRow) -> str:
    """Counts with each kind's share in brackets, one line per group and a total line."""
    everything = [*rows, MixRow("", "all", overall.counts)]
    width = max(len("all"), *(len(row.label) for row in everything))
    cells = {kind: max(len(kind), 12) for kind in KINDS}
    header = f"{'':<{width}}  {'total':>6}  " + "  ".join(f"{k:>{cells[k]}}" for k in KINDS)
    lines = [header]
    for row in everything:
        parts = [
            f"{row.counts[k]:>{cells[k] - 7}} ({row.proportions[k]:>3.0f}%)"
            if row.total
            else f"{'-':>{cells[k]}}"
            for k in KINDS
        ]
        lines.append(f"{row.label:<{width}}  {row.total:>6}  " + "  ".join(parts))
    if not overall.total:
        lines.append("\nNo check-ins were sent in this window.")
    return "\n".join(lines)
